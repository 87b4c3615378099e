"""Guided backpropagation (Springenberg et al., 2015): the gradient with only positive signals through ReLUs.

The gradient of the class score taken in a graph imported with the guided
ReLU gradient (:class:`~inception_tools.attribution.graph.AttributionGraph`
with ``guided=True``): at every ReLU the backward signal is zeroed where it is
negative or where the forward input was not positive.
"""

from __future__ import annotations

import numpy as np

from inception_tools.errors import UserError


def attribute(guided_graph, inputs: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Guided backprop of each image.

    Args:
        guided_graph: an :class:`~inception_tools.attribution.graph.AttributionGraph` made with ``guided=True``.
        inputs: float32 [N, H, W, 3] in [0, 1].
        target: int [N].

    Returns:
        float32 [N, H, W, 3].
    """
    if not guided_graph.guided:
        raise UserError("guided backprop needs a graph imported with the guided ReLU gradient")
    return guided_graph.run(guided_graph.input_gradient, inputs, target)
