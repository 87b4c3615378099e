"""Receptive fields of convolutional layers, read off a frozen GraphDef.

Along one image axis, a unit of a layer sees the input pixels of a window
described by ``Field(size, jump, start, length)``: the window is ``size``
pixels wide, unit ``i``'s window is centred on pixel ``start + i * jump``,
and the layer has ``length`` units. The input itself is ``Field(1, 1, 0, n)``.
A convolution or pooling with kernel ``k`` (dilated: ``(k - 1) * d + 1``),
stride ``s`` and ``p`` pixels of padding before the first unit maps a field
``f`` to ``Field(f.size + (k - 1) * f.jump, f.jump * s,
f.start + ((k - 1) / 2 - p) * f.jump, n_out)``, where TensorFlow's SAME
padding gives ``n_out = ceil(n / s)`` and ``p = max((n_out - 1) * s + k - n, 0) // 2``
and VALID gives ``n_out = (n - k) // s + 1``, ``p = 0``. Element-wise ops and
concatenations (the branches of a mixed block) take the union of their
inputs' windows. The walk goes from the layer back to the model's input.
"""

import math
from dataclasses import dataclass

from inception_tools.errors import UserError

SPATIAL_OPS = {"Conv2D", "DepthwiseConv2dNative", "MaxPool", "AvgPool"}
# Ops that keep each position where it is (their outputs read their inputs position by position).
POINTWISE_OPS = {
    "Add", "AddV2", "AddN", "BiasAdd", "Concat", "ConcatV2", "Identity", "LRN", "Maximum", "Minimum",
    "Mul", "Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Sub", "Tanh", "RealDiv", "Softplus",
}


@dataclass(frozen=True)
class Field:
    size: float
    jump: float
    start: float
    length: int

    def window(self, index):
        """Pixel range ``[lo, hi)`` that unit ``index`` sees (may extend past the image)."""
        lo = math.floor(self.start + index * self.jump - (self.size - 1) / 2)
        return lo, lo + int(math.ceil(self.size))


def through_kernel(field, kernel, stride, padding, dilation=1):
    """The field after a kernel/stride/padding step (see the module docstring)."""
    k = (kernel - 1) * dilation + 1
    n = field.length
    if padding == "SAME":
        n_out = -(-n // stride)
        pad = max((n_out - 1) * stride + k - n, 0) // 2
    elif padding == "VALID":
        n_out = (n - k) // stride + 1
        pad = 0
    else:
        raise UserError(f"receptive field: padding {padding} is not supported")
    return Field(field.size + (k - 1) * field.jump, field.jump * stride,
                 field.start + ((k - 1) / 2 - pad) * field.jump, n_out)


def union(fields):
    """The smallest field holding each of ``fields``' windows (same jump and length)."""
    if len({(f.jump, f.length) for f in fields}) > 1:
        raise UserError("receptive field: branches with different strides or sizes are joined")
    lo = min(f.start - (f.size - 1) / 2 for f in fields)
    hi = max(f.start + (f.size - 1) / 2 for f in fields)
    return Field(hi - lo + 1, fields[0].jump, (lo + hi) / 2, fields[0].length)


def _input_names(node):
    return [name.lstrip("^").split(":")[0] for name in node.input if not name.startswith("^")]


def _kernel_size(nodes, node, axis):
    """Kernel extent of a conv along ``axis`` (1 = height, 2 = width) from its weight constant."""
    if node.op in ("MaxPool", "AvgPool"):
        return node.attr["ksize"].list.i[axis]
    weights = nodes[_input_names(node)[1]]
    while weights.op == "Identity":
        weights = nodes[_input_names(weights)[0]]
    if weights.op != "Const":
        raise UserError(f"receptive field: weights of {node.name} are not a constant")
    return weights.attr["value"].tensor.tensor_shape.dim[axis - 1].size


def layer_field(graph_def, layer, input_name, input_size, axis=1):
    """The :class:`Field` of ``layer`` along ``axis`` (1 = height, 2 = width) for an input of ``input_size``."""
    nodes = {node.name: node for node in graph_def.node}
    if layer not in nodes and layer.endswith("_pre_relu"):
        layer = layer[: -len("_pre_relu")]  # Lucid adds mixed layers' pre-ReLU concat at import
    if layer not in nodes:
        raise UserError(f"receptive field: no node {layer}")
    fields = {}

    def field_of(name):
        if name not in fields:
            fields[name] = _field(nodes[name])
        return fields[name]

    def _field(node):
        if node.name == input_name:
            return Field(1, 1, 0.0, input_size)
        if node.op == "Const":
            return None
        inputs = [f for f in map(field_of, _input_names(node)) if f is not None]
        if not inputs:
            return None
        if node.op in SPATIAL_OPS:
            attr = node.attr
            dilation = attr["dilations"].list.i[axis] if "dilations" in attr else 1  # reading adds a key
            return through_kernel(inputs[0], _kernel_size(nodes, node, axis), attr["strides"].list.i[axis],
                                  attr["padding"].s.decode(), dilation)
        if node.op in POINTWISE_OPS:
            return union(inputs)
        raise UserError(f"receptive field: op {node.op} ({node.name}) is not supported")

    return field_of(layer)
