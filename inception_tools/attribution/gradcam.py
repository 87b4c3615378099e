"""Grad-CAM (Selvaraju et al., 2017): a layer's feature maps weighted by the class score's mean gradient.

``L = ReLU(sum_k alpha_k A_k)`` with ``alpha_k = mean_{ij} d f_c / d A_k[i, j]``
for the activations ``A`` of one layer (``mixed4d`` or ``mixed5b`` for
InceptionV1), upsampled bilinearly to the input size. It is one non-negative
map per image, as coarse as the layer's grid.
"""

from __future__ import annotations

import numpy as np

from inception_tools.errors import UserError


def attribute(graph, inputs: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Grad-CAM of each image at the graph's layer.

    Args:
        graph: an :class:`~inception_tools.attribution.graph.AttributionGraph` made with a layer.
        inputs: float32 [N, H, W, 3] in [0, 1].
        target: int [N].

    Returns:
        float32 [N, H, W], non-negative.
    """
    if graph.cam is None:
        raise UserError("Grad-CAM needs a layer")
    return graph.run(graph.cam, inputs, target)
