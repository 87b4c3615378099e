"""The classes each cell's average vector pushes most.

For a cell average ``v`` of a layer with an [H, W] grid, the score of class
``c`` is the change of its logit when every position of the layer holds
``v`` instead of ``a``, the average of all the layer's sampled vectors:

    score_c(v) = logit_c(tile(v)) - logit_c(tile(a))

computed exactly by running the rest of the network from the layer (the
imputation point of :class:`~inception_tools.surgery.Network`). For a layer
followed only by average pooling and a linear classifier (InceptionV1's
mixed5b) this is exactly the linear attribution ``W (v - a)``; earlier, it is
the exact, non-linearized counterpart of the Jacobian at the mean times
``v - a``. It is not the paper's attribution (each sampled vector's
gradient-times-activation in its own image, averaged over the cell), which
needs one gradient per class and vector. Output units that stand for no class
(InceptionV1's dummy and unused outputs) are never listed.
"""

import numpy as np

from inception_tools.data.dataset import is_placeholder
from inception_tools.surgery import Network

BATCH = 32


def class_scores(model, layer, means, overall_mean, shape):
    """float32 [m, classes]: ``score_c`` (see the module docstring) of each row of ``means`` [m, d].

    Args:
        model: the model.
        layer: the layer the vectors live in.
        means: the cells' average vectors.
        overall_mean: ``a``, the average of all the layer's sampled vectors [d].
        shape: the layer's (H, W).

    Returns:
        The scores, one row per cell.
    """
    net = Network(model, layer)
    try:
        def logits(vectors):
            tiled = np.broadcast_to(vectors[:, None, None, :], (len(vectors), *shape, vectors.shape[1]))
            return np.concatenate([net.session.run(net.logits, {net.imputed: tiled[i:i + BATCH]})
                                   for i in range(0, len(vectors), BATCH)])

        base = logits(np.asarray(overall_mean, np.float32)[None])
        return (logits(np.asarray(means, np.float32)) - base).astype(np.float32)
    finally:
        net.close()


def top_classes(model, scores, k):
    """int64 [m, k]: each row's ``k`` highest-scoring real classes, highest first (ties: lower index first)."""
    real = np.array([not is_placeholder(label) for label in model.label_ids])
    masked = np.where(real[None, :], scores, -np.inf)
    return np.argsort(-masked, axis=1, kind="stable")[:, :min(k, int(real.sum()))].astype(np.int64)
