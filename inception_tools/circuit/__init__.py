"""Circuits through expanded weights (Olah et al., "Zoom In" and "Visualizing Weights", Distill 2020).

``expand`` composes the linear path between two layers from the frozen graph's
weight constants, ``jacobian`` checks it against TensorFlow's gradient of the
linearized graph, ``links`` finds the neighbouring layers and ranks channels,
``figures`` and ``page`` draw kernels, renders and the layer pair's matrix, and
``stage`` holds the stage's config, result, compute, write and read.
"""
