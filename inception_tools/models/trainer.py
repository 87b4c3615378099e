"""The seeded trainer of the embedded model (``scripts/train_embedded.py`` runs it; the sanity checks retrain with it).

The architecture is :data:`inception_tools.models.embedded.EMBEDDED`, built by
the same builder as the frozen graphs but with ``tf.compat.v1`` variables
(He-normal initial values from a seeded numpy generator). Training: the 4,000
"train" digits, grayscale replicated to RGB and mapped to the value range
(-1, 1) exactly as Lucid's ``create_input`` maps [0, 1] pixels, each batch
shifted by up to 2 pixels at random; softmax cross entropy on
``softmax2_pre_activation``; Adam with a cosine-decayed learning rate;
shuffling and shifts from the same seed. The script turns op determinism on,
so a rerun gives the same weights.

Freezing: variables become constants (``convert_variables_to_constants``) and
``remove_training_nodes`` drops the Identity reads, so the frozen graph's nodes
are exactly the builder's (``conv2d0_w`` is a Const feeding
``conv2d0_pre_relu/conv``, ...).

``labels`` replaces the training labels (the data randomization test trains
on a permutation of them); everything else stays the same.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import tensorflow as tf

from inception_tools.data.digits import load_digits, to_rgb01
from inception_tools.models import frozen
from inception_tools.models.builder import build, he_normal
from inception_tools.models.embedded import EMBEDDED, VALUE_RANGE

tf1 = tf.compat.v1

BATCH_SIZE = 64
LEARNING_RATE = 2e-3
MAX_SHIFT = 2


def to_value_range(images):
    """uint8 digits -> float32 RGB model input in VALUE_RANGE (what create_input feeds)."""
    lo, hi = VALUE_RANGE
    return lo + to_rgb01(images) * (hi - lo)


def random_shifts(rng, x, max_shift=MAX_SHIFT):
    """Translate each image of ``x`` [N, H, W, C] by up to ``max_shift`` pixels; the background fills in."""
    n, h, w, _ = x.shape
    margin = (max_shift, max_shift)
    padded = np.pad(x, [(0, 0), margin, margin, (0, 0)], constant_values=VALUE_RANGE[0])
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    return np.stack([padded[i, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])


def train(epochs: int, seed: int, labels: Optional[np.ndarray] = None,
          progress: Optional[Callable[[int, float], None]] = None):
    """Train the embedded architecture from ``seed``.

    Args:
        epochs: passes over the 4,000 training digits.
        seed: seed of the initial weights, shuffling and shifts.
        labels: int [4000] training labels to use instead of the digits' own (None: the real ones).
        progress: called after every epoch with ``(epoch, mean loss)``.

    Returns:
        The frozen GraphDef (output ``softmax2``).
    """
    rng = np.random.default_rng(seed)
    images, real_labels = load_digits("train")
    labels = real_labels if labels is None else np.asarray(labels, real_labels.dtype)
    x_train = to_value_range(images)
    with tf.Graph().as_default() as graph:

        def variable(name, shape):
            return tf1.Variable(he_normal(rng, name, shape), name=name)

        build(EMBEDDED, variable)

        def freeze(sess):
            return tf1.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["softmax2"])

        graph_def = frozen.fit(labels, epochs, BATCH_SIZE, LEARNING_RATE, rng,
                               lambda idx: random_shifts(rng, x_train[idx]), freeze, progress)
    return tf1.graph_util.remove_training_nodes(graph_def)
