"""The linear frontier: which operations after a layer the fast engine may update by a rank-one term."""

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.importance.frontier import find_frontier
from inception_tools.models.builder import Conv, Mixed, build, he_normal

tf1 = tf.compat.v1


def standin(stride, dilation=1):
    """conv2d0 -> mixed3a (14 channels) -> a 1x1 convolution with ``stride``/``dilation`` -> mean over positions."""
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        spec = (Conv("conv2d0", kernel=3, depth=8), Mixed("mixed3a", 4, 4, 4, 2, 2, 4))
        tensors = build(spec, lambda name, shape: tf1.constant(he_normal(rng, name, shape)), 16, 16)
        weights = tf1.constant(he_normal(rng, "shortcut_w", (1, 1, 14, 8)))
        shortcut = tf1.nn.conv2d(tensors["mixed3a"], weights, strides=[1, stride, stride, 1], padding="SAME",
                                 dilations=[1, dilation, dilation, 1], name="shortcut")
        logits = tf1.reduce_mean(shortcut, axis=[1, 2], name="logits")
    return graph, tensors["mixed3a"], logits


def test_a_stride_one_1x1_convolution_is_the_frontier():
    _, layer, logits = standin(stride=1)
    (branch,) = find_frontier(layer, logits)
    assert branch.linear.op.name == "shortcut"


@pytest.mark.parametrize("stride, dilation", [(2, 1), (1, 2)])
def test_a_strided_or_dilated_1x1_convolution_falls_back(stride, dilation):
    # Before: a stride-2 1x1 convolution (ResNet's shortcut) was taken for a per-position matrix product.
    _, layer, logits = standin(stride, dilation)
    assert find_frontier(layer, logits) is None
