"""Integrated gradients (Sundararajan et al., 2017): the path integral of the gradient from a baseline.

``IG(x) = (x - b) * integral_0^1 d f_c(b + a (x - b)) / d x da``, here by the
midpoint rule on ``steps`` points ``a_k = (k + 1/2) / steps``. Completeness:
the attributions sum to ``f_c(x) - f_c(b)`` up to the rule's error, which
shrinks as ``steps`` grows (:func:`completeness_gap` measures it). Baseline:
black (0 in [0, 1] pixels) unless given.
"""

from __future__ import annotations

from typing import Optional

import numpy as np


def attribute(graph, inputs: np.ndarray, target: np.ndarray, baselines: Optional[np.ndarray] = None,
              steps: int = 16, batch_size: int = 16) -> np.ndarray:
    """Integrated gradients of each image.

    Args:
        graph: an :class:`~inception_tools.attribution.graph.AttributionGraph`.
        inputs: float32 [N, H, W, 3] in [0, 1].
        target: int [N].
        baselines: float32 like ``inputs`` (default 0: black).
        steps: points of the midpoint rule.
        batch_size: path points per run.

    Returns:
        float32 [N, H, W, 3].
    """
    baselines = np.zeros_like(inputs) if baselines is None else np.broadcast_to(baselines, inputs.shape)
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)
    out = np.zeros_like(inputs, dtype=np.float32)
    for i, (image, base, label) in enumerate(zip(inputs, baselines, target)):
        path = base[None] + alphas[:, None, None, None] * (image - base)[None]
        total = np.zeros_like(image)
        for start in range(0, steps, batch_size):
            chunk = path[start:start + batch_size]
            total += graph.run(graph.input_gradient, chunk, np.full(len(chunk), label)).sum(axis=0)
        out[i] = (image - base) * total / steps
    return out


def completeness_gap(graph, inputs: np.ndarray, target: np.ndarray, attributions: np.ndarray,
                     baselines: Optional[np.ndarray] = None) -> np.ndarray:
    """``sum(attributions) - (f_c(x) - f_c(b))`` per image (0 for exact integrated gradients).

    Returns:
        float64 [N].
    """
    baselines = np.zeros_like(inputs) if baselines is None else np.broadcast_to(baselines, inputs.shape)
    change = graph.run(graph.score, inputs, target) - graph.run(graph.score, baselines, target)
    return attributions.reshape(len(inputs), -1).sum(axis=1, dtype=np.float64) - change
