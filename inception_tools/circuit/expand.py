"""Expanded weights: the spatial kernel of the linear path between two layers, from the weight constants.

Between a layer ``A`` (the source, its ReLU output) and a later layer ``B``
(the target, its pre-ReLU value) the frozen graph is a DAG of convolutions,
bias additions, ReLUs, pools, LRNs and concatenations. Ignoring the
nonlinearities turns it into one linear, translation-equivariant map, so for
every (input channel i, output channel o) there is one spatial kernel ``K``:

    B_pre[p, o] = sum_{u, i} K[u, i, o] * A[stride * p + u - anchor, i]   (+ a constant)

(per spatial axis; ``u`` runs over the kernel). The rules, node by node, walking
back from ``B`` until ``A``:

- ``Relu``/``Identity`` -> identity (the nonlinearity ignored); ``BiasAdd`` -> its
  input (a bias moves the constant, not the kernel);
- ``Conv2D`` with weights ``W`` [k, k, M, O], stride ``s``, SAME/VALID padding:
  the input's kernel ``Kx`` (stride ``sx``, anchor ``ax``) composes as
  ``K[sx*q + u] += Kx[u] @ W[q]``, stride ``sx*s``, anchor ``sx*pad_before + ax``
  (the branch kernels are convolved and multiplied through the bottleneck);
- ``MaxPool`` (and ``AvgPool``) of size ``k``: approximated as the ``k x k``
  **average** (weight ``1/k^2`` on each tap of each channel), composed like a
  depthwise convolution. This is the one approximation: a max pool's gradient
  picks one tap, the average spreads it over all ``k^2``;
- ``LRN`` -> its linearization at zero, the scale ``bias ** -beta``
  (``1/sqrt(2)`` in InceptionV1);
- ``Concat``/``ConcatV2`` (channels) -> the parts' kernels aligned on a common
  anchor and stacked along output channels.

The expanded weights are exact for the *linearized* graph (ReLU -> identity,
max pool -> average pool, LRN -> its scale) away from the image borders
(padding changes average pools and convolutions there):
:mod:`inception_tools.circuit.jacobian` checks them against TensorFlow's
gradient of that graph.
"""

import dataclasses
import functools

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import tensor_util

from inception_tools.errors import UserError

tf1 = tf.compat.v1

PASS_THROUGH = {"Relu", "Identity", "BiasAdd"}
POOLS = {"MaxPool", "AvgPool"}
KNOWN = PASS_THROUGH | POOLS | {"Conv2D", "LRN", "Concat", "ConcatV2", "Const"}
LINEARIZATION = ("ReLU as identity; max pools approximated as average pools of the same size (1/k^2 on each tap); "
                 "LRN as its scale at zero (bias^-beta); biases dropped")


@dataclasses.dataclass
class Kernel:
    """Expanded weights: ``out[p, o] = sum_{u, i} weights[u_h, u_w, i, o] * src[stride*p + u - anchor, i]``.

    Attributes:
        weights: float64 [kh, kw, inputs, outputs].
        stride: source pixels per output pixel.
        anchor: source offset of the kernel's first tap (``stride*p - anchor`` is where it starts).
    """

    weights: np.ndarray
    stride: int
    anchor: int


def static_shapes(graph_def, input_name, image_shape):
    """``{node name: static shape}`` of every node output with the input fed one ``image_shape`` image."""
    with tf.Graph().as_default() as graph:
        image = tf1.placeholder(tf.float32, (1,) + tuple(image_shape))
        tf1.import_graph_def(graph_def, input_map={f"{input_name}:0": image}, name="")
        return {op.name: op.outputs[0].shape.as_list() for op in graph.get_operations()
                if op.outputs and op.outputs[0].shape.rank is not None}


def ancestors(nodes, name):
    """Names of the nodes ``name`` depends on (itself included)."""
    seen, stack = set(), [name]
    while stack:
        n = stack.pop()
        if n in seen or n not in nodes:
            continue
        seen.add(n)
        stack.extend(i.split(":")[0].lstrip("^") for i in nodes[n].input)
    return seen


def descendants(nodes, name):
    """Names of the nodes that depend on ``name`` (itself included)."""
    consumers = {}
    for node in nodes.values():
        for i in node.input:
            consumers.setdefault(i.split(":")[0].lstrip("^"), []).append(node.name)
    seen, stack = set(), [name]
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(consumers.get(n, ()))
    return seen


def _pad_before(in_size, out_size, k, s, padding):
    if padding == b"VALID":
        return 0
    return max((out_size - 1) * s + k - in_size, 0) // 2


def _compose(x, weights, s, pad):
    """``x`` followed by the convolution ``weights`` [k, k, M, O] of stride ``s`` and padding ``pad``."""
    k, kx = weights.shape[0], x.weights.shape[0]
    size = x.stride * (k - 1) + kx
    out = np.zeros((size, size, x.weights.shape[2], weights.shape[3]))
    for q1 in range(k):
        for q2 in range(weights.shape[1]):
            out[x.stride * q1:x.stride * q1 + kx, x.stride * q2:x.stride * q2 + kx] += x.weights @ weights[q1, q2]
    return Kernel(out, x.stride * s, x.stride * pad + x.anchor)


def _average(x, k, s, pad):
    """``x`` followed by a ``k x k`` average pool of stride ``s`` (each channel on its own)."""
    kx = x.weights.shape[0]
    size = x.stride * (k - 1) + kx
    out = np.zeros((size, size) + x.weights.shape[2:])
    for q1 in range(k):
        for q2 in range(k):
            out[x.stride * q1:x.stride * q1 + kx, x.stride * q2:x.stride * q2 + kx] += x.weights / (k * k)
    return Kernel(out, x.stride * s, x.stride * pad + x.anchor)


def _stack(parts, widths, inputs):
    """Concatenate kernels along output channels (``None`` parts: zero, ``widths`` channels)."""
    found = [p for p in parts if p is not None]
    strides = {p.stride for p in found}
    if len(strides) > 1:
        raise UserError("the concatenated branches have different strides")
    anchor = max(p.anchor for p in found)
    size = max(anchor - p.anchor + p.weights.shape[0] for p in found)
    blocks = []
    for part, width in zip(parts, widths):
        block = np.zeros((size, size, inputs, width))
        if part is not None:
            at = anchor - part.anchor
            block[at:at + part.weights.shape[0], at:at + part.weights.shape[1]] = part.weights
        blocks.append(block)
    return Kernel(np.concatenate(blocks, axis=3), strides.pop(), anchor)


def expanded_weights(graph_def, source, target, input_name, image_shape, channels=None):
    """The expanded weights from layer ``source`` (its output) to ``target`` (before its ReLU).

    Args:
        graph_def: a frozen GraphDef (weights as constants).
        source: the earlier layer's node name (e.g. ``mixed3a``).
        target: the later layer's node name (e.g. ``mixed3b``).
        input_name: the image placeholder's name.
        image_shape: (H, W, 3), square; fixes the padding of strided ops.
        channels: only these source channels (default: all), so one channel's outputs cost little.

    Returns:
        :class:`Kernel` with weights [kh, kw, source channels (or ``channels``), channels of target].

    Raises:
        UserError: ``target`` does not depend on ``source``, or the path passes an op with no
            spatial kernel (a dense layer, a reshape).
    """
    if image_shape[0] != image_shape[1]:
        raise UserError(f"expanded weights need a square input, not {image_shape[0]}x{image_shape[1]}")
    nodes = {n.name: n for n in graph_def.node}
    require_path(nodes, source, target)
    shapes = static_shapes(graph_def, input_name, image_shape)
    inputs = shapes[source][-1]
    rows = np.eye(inputs) if channels is None else np.eye(inputs)[list(channels)]
    downstream = descendants(nodes, source)

    def constant(name):
        node = nodes[name.split(":")[0]]
        if node.op != "Const":
            raise UserError(f"{node.name} is not a weight constant")
        return tensor_util.MakeNdarray(node.attr["value"].tensor).astype(np.float64)

    @functools.lru_cache(maxsize=None)
    def walk(name):
        if name == source:
            return Kernel(rows[None, None], 1, 0)
        if name not in downstream:
            return None
        node = nodes[name]
        args = [i.split(":")[0] for i in node.input if not i.startswith("^")]
        if node.op in PASS_THROUGH:
            return walk(args[0])
        if node.op == "Conv2D":
            s = list(node.attr["strides"].list.i)[1]
            w = constant(args[1])
            pad = _pad_before(shapes[args[0]][1], shapes[name][1], w.shape[0], s, node.attr["padding"].s)
            return _compose(walk(args[0]), w, s, pad)
        if node.op in POOLS:
            k, s = list(node.attr["ksize"].list.i)[1], list(node.attr["strides"].list.i)[1]
            pad = _pad_before(shapes[args[0]][1], shapes[name][1], k, s, node.attr["padding"].s)
            return _average(walk(args[0]), k, s, pad)
        if node.op == "LRN":
            x = walk(args[0])
            return Kernel(x.weights * node.attr["bias"].f ** -node.attr["beta"].f, x.stride, x.anchor)
        if node.op in ("Concat", "ConcatV2"):
            parts = args[1:] if node.op == "Concat" else args[:-1]
            axis = constant(args[0] if node.op == "Concat" else args[-1])
            if int(axis) not in (3, -1):
                raise UserError(f"{name} concatenates along axis {int(axis)}, not channels")
            return _stack([walk(p) for p in parts], [shapes[p][-1] for p in parts], len(rows))
        raise _no_kernel(source, target, node)

    return walk(target)


def _no_kernel(source, target, node):
    return UserError(f"the path from {source} to {target} passes {node.name} ({node.op}), which has no spatial "
                     "kernel; choose layers joined by convolutions, pools and concatenations")


def require_path(nodes, source, target):
    """Raise UserError unless ``target`` depends on ``source`` only through ops with a spatial kernel.

    Args:
        nodes: ``{name: NodeDef}`` of the graph.
    """
    if source == target or source not in ancestors(nodes, target):
        raise UserError(f"layers {source} and {target} are not connected: {target} does not depend on {source}")
    between = (ancestors(nodes, target) & descendants(nodes, source)) - {source}
    for name in sorted(between):
        if nodes[name].op not in KNOWN:
            raise _no_kernel(source, target, nodes[name])
