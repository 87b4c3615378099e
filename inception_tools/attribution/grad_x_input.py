"""Gradient x input (Shrikumar et al., 2016): ``(x - b) * d f_c(x) / d x``.

With the black baseline ``b = 0`` (pixels in [0, 1]) it is the plain product
of the image and its gradient: the first-order estimate of the score's change
from black to the image.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from inception_tools.attribution import gradient


def attribute(graph, inputs: np.ndarray, target: np.ndarray, baselines: Optional[np.ndarray] = None) -> np.ndarray:
    """Gradient times (input - baseline).

    Args:
        graph: an :class:`~inception_tools.attribution.graph.AttributionGraph`.
        inputs: float32 [N, H, W, 3] in [0, 1].
        target: int [N].
        baselines: float32 like ``inputs`` or broadcastable (default 0: black).

    Returns:
        float32 [N, H, W, 3].
    """
    baselines = 0.0 if baselines is None else baselines
    return (inputs - baselines) * gradient.attribute(graph, inputs, target)
