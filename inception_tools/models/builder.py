"""Build Inception-style ``tf.compat.v1`` graphs with InceptionV1's node names.

An architecture is a tuple of layer specs (:class:`Conv`, :class:`MaxPool`,
:class:`LRN`, :class:`Mixed`, :class:`AuxHead`, :class:`AvgPool`,
:class:`Flatten`, :class:`Dense`, :class:`Dropout`, :class:`Softmax`) applied in order to the placeholder ``input`` (float32
``[None, H, W, 3]``, NHWC, SAME padding throughout). Nodes are named exactly as
in Lucid's InceptionV1 ("inception5h") graph:

- a convolution ``c``: ``c_pre_relu/conv`` (Conv2D) -> ``c_pre_relu`` (BiasAdd)
  -> ``c`` (Relu), parameters ``c_w`` [k, k, in, out] and ``c_b`` [out];
- a mixed block ``m``: convolutions ``m_1x1``, ``m_3x3_bottleneck`` -> ``m_3x3``,
  ``m_5x5_bottleneck`` -> ``m_5x5``, a 3x3/1 max pool ``m_pool`` ->
  ``m_pool_reduce``, and ``m`` = ``Concat(m/concat_dim, [1x1, 3x3, 5x5,
  pool_reduce])`` (the old ``Concat`` op, which Lucid's
  ``_populate_inception_bottlenecks`` looks for to add ``m_pre_relu``);
- an auxiliary head bottleneck ``h_bottleneck`` (a branch; the main path goes
  on from the previous layer): ``h_pool`` (5x5/3 VALID average pool of its
  source) -> convolution ``h_bottleneck`` -> ``h_bottleneck/reshape``;
- ``avgpool0`` (VALID average pool) -> ``avgpool0/reshape`` [-1, channels];
- ``Flatten`` ``f``: the first colour channel of the image (``f/channel0``),
  ``f`` = Reshape [-1, H*W] (``build`` needs ``height`` and ``width``), so an
  MLP on grayscale digits takes the same RGB input as the convnet;
- a dense layer ``d``: ``d_pre_relu/matmul`` -> ``d_pre_relu`` (BiasAdd) ->
  ``d`` (Relu), parameters ``d_w`` [in, out] and ``d_b``;
- ``Dropout`` (training graphs only): ``tf.nn.dropout`` at a fixed rate;
- a classifier ``s``: ``s_pre_activation/matmul`` -> ``s_pre_activation``
  (BiasAdd) -> ``s`` (Softmax), parameters ``s_w`` [in, classes], ``s_b``.

Parameters come from a callable ``param(name, shape) -> tensor``, called once
per parameter in graph order, so the same architecture gives a frozen graph
(constants) or a trainable one (variables). :func:`he_normal` gives the usual
initial values for either.
"""

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1

# Local response normalisation of the 2015 Inception release.
LRN_ARGS = dict(depth_radius=5, bias=2.0, alpha=1e-4, beta=0.5)


@dataclass(frozen=True)
class Conv:
    name: str
    kernel: int
    depth: int
    stride: int = 1


@dataclass(frozen=True)
class MaxPool:
    name: str
    size: int = 3
    stride: int = 2


@dataclass(frozen=True)
class LRN:
    name: str


@dataclass(frozen=True)
class Mixed:
    """Inception block; branch depths as in the paper's table."""

    name: str
    d1x1: int
    d3x3_bottleneck: int
    d3x3: int
    d5x5_bottleneck: int
    d5x5: int
    pool_reduce: int

    @property
    def depth(self):
        return self.d1x1 + self.d3x3 + self.d5x5 + self.pool_reduce


@dataclass(frozen=True)
class AuxHead:
    """Auxiliary head bottleneck branching off ``source``; ``flat`` is its reshape width."""

    name: str
    pool: str
    source: str
    depth: int
    flat: int


@dataclass(frozen=True)
class AvgPool:
    name: str
    size: int


@dataclass(frozen=True)
class Flatten:
    name: str


@dataclass(frozen=True)
class Dense:
    name: str
    depth: int


@dataclass(frozen=True)
class Dropout:
    name: str
    rate: float
    seed: int = 0


@dataclass(frozen=True)
class Softmax:
    name: str
    depth: int


def layer_depths(spec):
    """Ordered ``{name: channels}`` of the layers that have weights (convs, mixed, heads, softmax)."""
    return {layer.name: layer.depth for layer in spec if hasattr(layer, "depth")}


def he_normal(rng, name, shape, input_std=1.0):
    """He-normal weights (``*_w``) scaled for inputs of std ``input_std``; zero biases (``*_b``)."""
    if name.endswith("_b"):
        return np.zeros(shape, np.float32)
    fan_in = int(np.prod(shape[:-1]))
    std = np.sqrt(2.0 / fan_in) / input_std
    return (rng.standard_normal(shape) * std).astype(np.float32)


def build(spec, param, height=None, width=None):
    """Add the placeholder ``input`` and the layers of ``spec`` to the default graph.

    Returns ``{name: tensor "<name>:0"}`` for ``"input"`` and every layer of ``spec``.
    """
    graph = tf1.get_default_graph()
    x = tf1.placeholder(tf.float32, [None, height, width, 3], name="input")
    tensors = {"input": x}
    for layer in spec:
        # Each layer returns the tensor the main path goes on from.
        x = _APPLY[type(layer)](layer, x, param, tensors)
        tensors[layer.name] = graph.get_tensor_by_name(f"{layer.name}:0")
    return tensors


def conv(name, x, kernel, depth, param, stride=1):
    """``name_pre_relu/conv`` -> ``name_pre_relu`` -> ``name`` (Relu)."""
    w = param(f"{name}_w", [kernel, kernel, _channels(x), depth])
    pre = tf1.nn.conv2d(x, w, [1, stride, stride, 1], "SAME", name=f"{name}_pre_relu/conv")
    pre = tf1.nn.bias_add(pre, param(f"{name}_b", [depth]), name=f"{name}_pre_relu")
    return tf1.nn.relu(pre, name=name)


def _channels(x):
    return int(x.shape[-1])


def _conv(layer, x, param, tensors):
    return conv(layer.name, x, layer.kernel, layer.depth, param, layer.stride)


def _max_pool(layer, x, param, tensors):
    return _pool(tf1.nn.max_pool, layer.name, x, layer.size, layer.stride, "SAME")


def _pool(op, name, x, size, stride, padding):
    return op(x, [1, size, size, 1], [1, stride, stride, 1], padding, name=name)


def _lrn(layer, x, param, tensors):
    return tf1.nn.lrn(x, name=layer.name, **LRN_ARGS)


def _mixed(layer, x, param, tensors):
    m = layer.name
    b1 = conv(f"{m}_1x1", x, 1, layer.d1x1, param)
    b3 = conv(f"{m}_3x3_bottleneck", x, 1, layer.d3x3_bottleneck, param)
    b3 = conv(f"{m}_3x3", b3, 3, layer.d3x3, param)
    b5 = conv(f"{m}_5x5_bottleneck", x, 1, layer.d5x5_bottleneck, param)
    b5 = conv(f"{m}_5x5", b5, 5, layer.d5x5, param)
    bp = _pool(tf1.nn.max_pool, f"{m}_pool", x, 3, 1, "SAME")
    bp = conv(f"{m}_pool_reduce", bp, 1, layer.pool_reduce, param)
    concat_dim = tf1.constant(3, name=f"{m}/concat_dim")
    return tf1.raw_ops.Concat(concat_dim=concat_dim, values=[b1, b3, b5, bp], name=m)


def _aux_head(layer, x, param, tensors):
    pooled = _pool(tf1.nn.avg_pool, layer.pool, tensors[layer.source], 5, 3, "VALID")
    bottleneck = conv(layer.name, pooled, 1, layer.depth, param)
    tf1.reshape(bottleneck, [-1, layer.flat], name=f"{layer.name}/reshape")
    return x


def _avg_pool(layer, x, param, tensors):
    pooled = _pool(tf1.nn.avg_pool, layer.name, x, layer.size, 1, "VALID")
    return tf1.reshape(pooled, [-1, _channels(x)], name=f"{layer.name}/reshape")


def _flatten(layer, x, param, tensors):
    h, w = int(x.shape[1]), int(x.shape[2])
    gray = tf1.slice(x, [0, 0, 0, 0], [-1, h, w, 1], name=f"{layer.name}/channel0")
    return tf1.reshape(gray, [-1, h * w], name=layer.name)


def _dense(layer, x, param, tensors):
    d = layer.name
    pre = tf1.matmul(x, param(f"{d}_w", [_channels(x), layer.depth]), name=f"{d}_pre_relu/matmul")
    pre = tf1.nn.bias_add(pre, param(f"{d}_b", [layer.depth]), name=f"{d}_pre_relu")
    return tf1.nn.relu(pre, name=d)


def _dropout(layer, x, param, tensors):
    dropped = tf1.nn.dropout(x, rate=layer.rate, seed=layer.seed, name=f"{layer.name}/dropout")
    return tf1.identity(dropped, name=layer.name)


def _softmax(layer, x, param, tensors):
    s = layer.name
    w = param(f"{s}_w", [_channels(x), layer.depth])
    logits = tf1.matmul(x, w, name=f"{s}_pre_activation/matmul")
    logits = tf1.nn.bias_add(logits, param(f"{s}_b", [layer.depth]), name=f"{s}_pre_activation")
    return tf1.nn.softmax(logits, name=s)


_APPLY = {
    Conv: _conv,
    MaxPool: _max_pool,
    LRN: _lrn,
    Mixed: _mixed,
    AuxHead: _aux_head,
    AvgPool: _avg_pool,
    Flatten: _flatten,
    Dense: _dense,
    Dropout: _dropout,
    Softmax: _softmax,
}
