"""How much memory a feature visualization needs, estimated before it starts.

A render optimizes ``n`` images of ``size`` x ``size`` pixels through the whole
network: every layer's activations at that size are kept for the gradient, and
the gradient of each is as large again. The activations grow with the number
of pixels, so the estimate is

    bytes = BASE + FACTOR * n * (size + PAD)^2 * (activation bytes per input pixel)

where the bytes per input pixel are the model's float activations (every op's
outputs, weights excluded) at its own input size, from the graph's static
shapes, divided by its pixels; ``PAD`` is the padding of Lucid's transforms and
``FACTOR`` (forward, gradient and TensorFlow's working copies) was fitted to the
peak RSS of renders of the embedded model (see ``docs/guides/hostile-review.md``).
A render whose estimate exceeds the memory available now (``MemAvailable``) is
refused with the estimate in the message, instead of growing until the system
kills it (``visualize --size 2000`` on the 28-pixel embedded model reached 24 GB).
"""

import numpy as np

from inception_tools.errors import UserError
from inception_tools.memory import available_bytes

BASE = 0.9e9  # TensorFlow, Lucid and the model, before any render (fitted, see below)
FACTOR = 1.1
PAD = 16  # Lucid's standard transforms pad by 12 and jitter by 8


def activation_bytes_per_pixel(model):
    """Bytes of float activations per input pixel of one image (memoised on the model)."""
    cached = getattr(model, "_activation_bytes_per_pixel", None)
    if cached is not None:
        return cached
    import tensorflow as tf

    tf1 = tf.compat.v1
    height, width = model.image_shape[:2]
    with tf.Graph().as_default() as graph:
        t_input = tf1.placeholder(tf.float32, (1,) + tuple(model.image_shape))
        model.import_graph(t_input, scope="estimate")
        # each op's first output only: a frozen batch norm's other outputs (saved statistics) are no
        # activations, and grappler rewrites the op into an Identity that has none
        tensors = [op.outputs[0] for op in graph.get_operations() if op.type not in ("Const", "Placeholder", "NoOp")
                   and op.outputs and op.outputs[0].dtype == tf.float32]
        with tf1.Session(graph=graph) as session:  # one forward pass of one blank image: the shapes Lucid hides
            values = session.run(tensors, {t_input: np.zeros((1,) + tuple(model.image_shape), np.float32)})
    value = 4.0 * sum(v.size for v in values) / (height * width)
    model._activation_bytes_per_pixel = value
    return value


def estimate(model, size, images):
    """Estimated peak bytes of rendering ``images`` images of ``size`` pixels on ``model``."""
    return BASE + FACTOR * images * (size + PAD) ** 2 * activation_bytes_per_pixel(model)


def check_render_memory(model, size, images, available=None):
    """Raise UserError when rendering ``images`` images of ``size`` pixels cannot fit in memory.

    Returns:
        The estimate in bytes.
    """
    needed = estimate(model, size, images)
    available = available_bytes() if available is None else available
    if available is not None and needed > available:
        raise UserError(f"a render of {images} images of {size} x {size} pixels on {model.name} needs about "
                        f"{needed / 1e9:.1f} GB (estimate), more than the {available / 1e9:.1f} GB of memory "
                        "available; choose a smaller size or fewer channels per call")
    return needed
