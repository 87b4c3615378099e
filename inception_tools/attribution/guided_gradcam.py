"""Guided Grad-CAM (Selvaraju et al., 2017): guided backprop multiplied by the upsampled Grad-CAM map.

Pixel-precise where guided backprop is, class-discriminative where Grad-CAM is:
``GB(x) * L(x)`` per pixel and colour channel.
"""

from __future__ import annotations

import numpy as np

from inception_tools.attribution import gradcam, guided_backprop


def attribute(guided_graph, graph, inputs: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Guided Grad-CAM of each image.

    Args:
        guided_graph: an :class:`~inception_tools.attribution.graph.AttributionGraph` with ``guided=True``.
        graph: an ordinary one with a layer (for Grad-CAM).
        inputs: float32 [N, H, W, 3] in [0, 1].
        target: int [N].

    Returns:
        float32 [N, H, W, 3].
    """
    return guided_backprop.attribute(guided_graph, inputs, target) * gradcam.attribute(graph, inputs, target)[..., None]
