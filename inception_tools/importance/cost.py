"""Multiply-adds of the network after a layer (what the fast engine must compute per channel)."""

import numpy as np

from inception_tools.models.graph import ancestor_ops

COUNTED = ("Conv2D", "MatMul")


def suffix_ops(net):
    """Convolutions and matrix products between ``net.layer`` and the logits."""
    before = ancestor_ops(net.activations)
    return [op for op in ancestor_ops(net.logits) if op.type in COUNTED and op not in before]


def multiply_adds(op, output_shape):
    if op.type == "Conv2D":
        kh, kw, cin, _ = op.inputs[1].shape.as_list()
        return int(np.prod(output_shape[1:])) * kh * kw * cin
    return int(output_shape[-1]) * int(op.inputs[1].shape[0])


def suffix_multiply_adds(net, image):
    """Per-image multiply-adds of the suffix, measured on one [1, H, W, 3] image."""
    ops = suffix_ops(net)
    shapes = net.run([op.outputs[0] for op in ops], image)
    return sum(multiply_adds(op, s.shape) for op, s in zip(ops, shapes))
