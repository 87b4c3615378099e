"""The linear frontier of a layer: where a one-channel change can be added, not recomputed.

Just after a mixed layer of InceptionV1 come 1x1 convolutions (the next
block's 1x1 and bottleneck branches), max pools followed by 1x1 convolutions
(the pool branch, or a stride-2 pool between blocks), or an average pool and
the classifier's matrix product (after ``mixed5b``). Replacing channel ``c``
by a constant ``v`` leaves every other channel alone, keeps channel ``c``
equal to ``v`` through the pools, and changes each linear output ``L = P @ W``
by ``(v - P[..., c]) * W[c, :]``. So the linear outputs of the unablated
images are computed once, each channel's variant is a cheap rank-one update (built in the graph),
and only the network after those outputs runs per channel.

:func:`find_frontier` walks from the layer through pools and flattening
reshapes to 1x1 convolutions and matrix products, and returns ``None`` when a
path to the logits goes through anything else; then the engine feeds whole
imputed layers instead.
"""

import dataclasses

import tensorflow as tf

from inception_tools.models.graph import ancestor_ops

PASS_THROUGH = {"MaxPool", "AvgPool", "Identity", "Reshape"}


@dataclasses.dataclass
class Branch:
    pooled: object  # tensor P: the layer after pass-through ops, input of the linear op
    linear: object  # tensor L = P @ W (before its bias)
    weight: object  # tensor W: [1, 1, C, O] kernel or [C, O] matrix


def _keeps_channels(op, channels):
    shape = op.outputs[0].shape
    return shape.rank is not None and shape[-1] == channels


def _is_one_by_one(op):
    """A 1x1 NHWC convolution with strides and dilations of 1: a per-position matrix product.

    (A stride-2 1x1 convolution, as in ResNet shortcuts, reads only every other
    position, so the rank-one update of its input would not match its output.)
    """
    if op.type != "Conv2D":
        return False
    kernel = op.inputs[1].shape
    return (kernel.rank == 4 and kernel[0] == 1 and kernel[1] == 1 and op.get_attr("data_format") == b"NHWC"
            and list(op.get_attr("strides")) == [1, 1, 1, 1] and list(op.get_attr("dilations")) == [1, 1, 1, 1])


def _is_plain_matmul(op):
    return op.type == "MatMul" and not op.get_attr("transpose_a") and not op.get_attr("transpose_b")


def find_frontier(layer, logits):
    """Branches that cover every path from tensor ``layer`` to ``logits``, or None."""
    channels = layer.shape[-1]
    on_path = ancestor_ops(logits)
    branches, stack = [], [layer]
    while stack:
        tensor = stack.pop()
        for op in tensor.consumers():
            if op not in on_path:
                continue
            if op.inputs[0] is not tensor:
                return None
            if op.type in PASS_THROUGH and _keeps_channels(op, channels):
                stack.append(op.outputs[0])
            elif _is_one_by_one(op) or _is_plain_matmul(op):
                branches.append(Branch(tensor, op.outputs[0], op.inputs[1]))
            else:
                return None
    if not branches or layer.op in ancestor_ops(logits, stop=[b.linear for b in branches]):
        return None
    return branches


def rank_one_variants(linear, pooled, weight, channels, values):
    """In-graph ``L`` of every channel variant, stacked: [G*B, ...].

    ``linear`` L [B, ..., O] and ``pooled`` P [B, ..., C] are the unablated
    batch, ``weight`` W the [C, O] matrix; variant g imputes ``channels[g]``
    with ``values[g]``: ``L + (values[g] - P[..., channels[g]]) * W[channels[g]]``.
    """
    rank = pooled.shape.rank
    columns = tf.transpose(tf.gather(pooled, channels, axis=-1), [rank - 1] + list(range(rank - 1)))
    deltas = tf.reshape(values, [-1] + [1] * (rank - 1)) - columns  # [G, B, ...]
    rows = tf.reshape(tf.gather(weight, channels), tf.concat([[-1], [1] * (rank - 1), [tf.shape(weight)[1]]], 0))
    variants = linear[None] + deltas[..., None] * rows
    return tf.reshape(variants, tf.concat([[-1], tf.shape(linear)[1:]], 0))
