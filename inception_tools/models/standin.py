"""A random-weight stand-in for Lucid's InceptionV1, for tests and dry runs.

:data:`INCEPTION_V1` declares the real architecture (layer table of the
Lucid/inception5h graph: depths, kernels, strides, LRN, the two auxiliary-head
bottlenecks) and :func:`write_standin` freezes it with seeded random weights,
so the file has the real model's node names, ops, parameter shapes, input value
range (-117, 138) and 1008-way ``softmax2`` without its weights.

Weights are He-normal (biases zero), so each ReLU layer keeps roughly
unit-scale activations through the depth, and ``conv2d0_w`` is further divided
by the standard deviation of pixels spread over the value range. Measured on
ImageNet photos: mixed5a activations have mean ~0.7, std ~1.1; the logits
spread by ~2, so the softmax is neither uniform nor one-hot (top probability
~0.01-0.1).
"""

import numpy as np
import tensorflow as tf

from inception_tools.atomic import atomic_open
from inception_tools.models.builder import (
    LRN,
    AuxHead,
    AvgPool,
    Conv,
    MaxPool,
    Mixed,
    Softmax,
    build,
    he_normal,
)

tf1 = tf.compat.v1

VALUE_RANGE = (-117, 138)
IMAGE_SHAPE = (224, 224, 3)
NUM_CLASSES = 1008

# Standard deviation of pixels uniformly spread over VALUE_RANGE.
PIXEL_STD = (VALUE_RANGE[1] - VALUE_RANGE[0]) / np.sqrt(12)

INCEPTION_V1 = (
    Conv("conv2d0", kernel=7, depth=64, stride=2),
    MaxPool("maxpool0"),
    LRN("localresponsenorm0"),
    Conv("conv2d1", kernel=1, depth=64),
    Conv("conv2d2", kernel=3, depth=192),
    LRN("localresponsenorm1"),
    MaxPool("maxpool1"),
    Mixed("mixed3a", 64, 96, 128, 16, 32, 32),
    Mixed("mixed3b", 128, 128, 192, 32, 96, 64),
    MaxPool("maxpool4"),
    Mixed("mixed4a", 192, 96, 204, 16, 48, 64),
    Mixed("mixed4b", 160, 112, 224, 24, 64, 64),
    Mixed("mixed4c", 128, 128, 256, 24, 64, 64),
    Mixed("mixed4d", 112, 144, 288, 32, 64, 64),
    Mixed("mixed4e", 256, 160, 320, 32, 128, 128),
    MaxPool("maxpool10"),
    Mixed("mixed5a", 256, 160, 320, 48, 128, 128),
    Mixed("mixed5b", 384, 192, 384, 48, 128, 128),
    AuxHead("head0_bottleneck", pool="head0_pool", source="mixed4a", depth=128, flat=2048),
    AuxHead("head1_bottleneck", pool="head1_pool", source="mixed4d", depth=128, flat=2048),
    AvgPool("avgpool0", size=7),
    Softmax("softmax2", depth=NUM_CLASSES),
)


def standin_graph_def(seed=0):
    """The frozen stand-in GraphDef with weights drawn from ``seed``."""
    rng = np.random.default_rng(seed)

    def param(name, shape):
        input_std = PIXEL_STD if name == "conv2d0_w" else 1.0
        return tf1.constant(he_normal(rng, name, shape, input_std), name=name)

    with tf.Graph().as_default() as graph:
        build(INCEPTION_V1, param)
    return graph.as_graph_def()


def write_standin(path, seed=0):
    """Write the stand-in as a frozen GraphDef ``.pb`` at ``path`` (atomically)."""
    graph_def = standin_graph_def(seed)
    with atomic_open(path, "wb") as f:
        f.write(graph_def.SerializeToString())
    return path
