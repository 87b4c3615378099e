"""Run the installed ``lucid`` package (written for TensorFlow 1) on TensorFlow 2.

Lucid's modules ``import tensorflow as tf`` and then use TF1 names
(``tf.placeholder``, ``tf.Session``, ``tf.train.AdamOptimizer``, ...). While
:func:`import_lucid` imports them, ``sys.modules["tensorflow"]`` is a TF1 view:
a module that answers every name from ``tf.compat.v1`` and adds the two pieces
of ``tf.contrib`` Lucid uses, so each Lucid module binds ``tf`` to that view.
The real module is restored right after, and nothing outside Lucid sees the
change. No Lucid source is copied or edited. The ``tf.contrib`` pieces:

- ``tf.contrib.slim`` (``lucid.optvis.param.cppn`` imports it) is the
  ``tf_slim`` package, the maintained copy of ``tf.contrib.slim``;
- ``tf.contrib.image.rotate`` (the ``random_rotate`` of Lucid's standard
  transforms calls it) is rebuilt below on ``ImageProjectiveTransformV3``,
  the successor of the op contrib used, with the same defaults (nearest
  neighbour, zeros outside the image); TensorFlow registers its gradient.

For notebooks, :func:`install` makes the TF1 view global: after one call,
``import tensorflow as tf`` gives the view (TF1 names, graph mode), every
``lucid.*`` module imports against it, and Lucid modules imported earlier are
rebound to it. The toolkit itself builds explicit ``tf.Graph``s and keeps
working either way.

One more name differs from ``tf.compat.v1``: ``tf.Session`` made without a
``config`` runs one op at a time (``inter_op_parallelism_threads=1``; each op
still uses every core). With ops running side by side, the floating-point
sums of ``render_vis``'s gradient steps come out in varying order and the
same seed drifts to visibly different images within a few steps; one op at a
time they are identical, at about the same speed on a few cores. The session
gets a one-thread pool of its own (``use_per_session_threads``): TensorFlow's
shared inter-op pool takes its size from the first session of the process, so
after any other session (an importance scan's) it would run ops side by side
again and the images would depend on what the process did before.
"""

import sys
import types

import tensorflow as tf

# Lucid modules this project uses, imported once under the TF1 view.
LUCID_MODULES = (
    "lucid.modelzoo.vision_base",
    "lucid.modelzoo.vision_models",
    "lucid.optvis.objectives",
    "lucid.optvis.param",
    "lucid.optvis.transform",
    "lucid.optvis.render",
    "lucid.misc.gradient_override",
)

_imported = False
_installed = None


def rotation_transforms(angles, height, width):
    """Projective transforms [n, 8] rotating an image counter-clockwise about its centre.

    The formula of ``tf.contrib.image.angles_to_projective_transforms``: each
    row maps an output pixel (x, y) back to the input pixel it samples.
    """
    angles = tf.reshape(tf.cast(angles, tf.float32), [-1])
    cos, sin = tf.cos(angles), tf.sin(angles)
    x_offset = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2.0
    y_offset = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2.0
    zeros = tf.zeros_like(angles)
    return tf.stack([cos, -sin, x_offset, sin, cos, y_offset, zeros, zeros], axis=1)


def rotate(images, angles, interpolation="NEAREST", name=None):
    """``tf.contrib.image.rotate``: rotate [H, W, C] or [N, H, W, C] images by ``angles`` radians."""
    with tf.name_scope(name or "rotate"):
        images = tf.convert_to_tensor(images)
        single = images.shape.rank == 3
        batch = images[None] if single else images
        size = tf.shape(batch)[1:3]
        height, width = tf.cast(size[0], tf.float32), tf.cast(size[1], tf.float32)
        rotated = tf.raw_ops.ImageProjectiveTransformV3(
            images=batch,
            transforms=rotation_transforms(angles, height, width),
            output_shape=size,
            fill_value=0.0,
            interpolation=interpolation.upper(),
            fill_mode="CONSTANT",
        )
        return rotated[0] if single else rotated


class Session(tf.compat.v1.Session):
    """``tf.compat.v1.Session`` whose default config runs one op at a time."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config or tf.compat.v1.ConfigProto(inter_op_parallelism_threads=1,
                                                                           use_per_session_threads=True))


def tf1_view():
    """The ``tensorflow`` module Lucid sees: ``tf.compat.v1`` plus ``contrib``."""
    import tf_slim

    contrib = types.ModuleType("tensorflow.contrib")
    contrib.slim = tf_slim
    contrib.image = types.ModuleType("tensorflow.contrib.image")
    contrib.image.rotate = rotate
    view = types.ModuleType("tensorflow", "tf.compat.v1 with tf.contrib.{slim,image.rotate}, serial Session")
    view.__getattr__ = lambda name: _tf1_name(name)
    view.__path__ = tf.__path__  # `import tensorflow.io.gfile` and other submodules still resolve
    view.contrib = contrib
    view.Session = Session
    return view


def _tf1_name(name):
    """A TF1 name, or TF2's where TF1 has none (``tf.raw_ops``-style additions)."""
    try:
        return getattr(tf.compat.v1, name)
    except AttributeError:
        return getattr(tf, name)


def _view_modules(view):
    return {"tensorflow": view, "tensorflow.contrib": view.contrib,
            "tensorflow.contrib.slim": view.contrib.slim, "tensorflow.contrib.image": view.contrib.image}


def install():
    """Run TF1 notebooks and any ``lucid`` module on TensorFlow 2, from now on, in this process.

    After this call ``import tensorflow as tf`` returns the TF1 view
    (``tf.placeholder``, ``tf.Session``, ``tf.gradients``, ``tf.contrib.slim``, ...),
    eager execution is off (graph mode, as in TF1), every ``lucid.*`` module
    imports against the view, and Lucid modules imported before the call are
    rebound to it. Calling it again does nothing.

    Returns:
        The view module that ``import tensorflow`` now gives.
    """
    global _installed
    if _installed is not None:
        return _installed
    real = sys.modules["tensorflow"]
    tf.compat.v1.disable_eager_execution()
    view = tf1_view()
    sys.modules.update(_view_modules(view))
    for name, module in list(sys.modules.items()):
        if module is not None and (name == "lucid" or name.startswith("lucid.")):
            for attribute, value in list(vars(module).items()):
                if value is real:
                    setattr(module, attribute, view)
    _installed = view
    return view


def import_lucid():
    """Import the Lucid modules in :data:`LUCID_MODULES` bound to the TF1 view."""
    global _imported
    if _imported:
        return
    import importlib

    view = _installed or tf1_view()
    swapped = _view_modules(view)
    saved = {name: sys.modules.get(name) for name in swapped}
    sys.modules.update(swapped)
    try:
        for name in LUCID_MODULES:
            importlib.import_module(name)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    _imported = True

