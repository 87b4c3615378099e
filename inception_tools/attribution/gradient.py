"""Plain gradients (Simonyan et al., 2014): ``d f_c(x) / d x``, the score's sensitivity to each pixel."""

from __future__ import annotations

import numpy as np


def attribute(graph, inputs: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The gradient of each image's class score with respect to its pixels.

    Args:
        graph: an :class:`~inception_tools.attribution.graph.AttributionGraph`.
        inputs: float32 [N, H, W, 3] in [0, 1].
        target: int [N], the class of each image.

    Returns:
        float32 [N, H, W, 3].
    """
    return graph.run(graph.input_gradient, inputs, target)
