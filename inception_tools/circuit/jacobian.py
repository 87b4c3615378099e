"""The check of expanded weights: TensorFlow's Jacobian of the linearized graph.

:func:`linearized` rewrites a frozen GraphDef the way
:mod:`inception_tools.circuit.expand` reads it: every ``Relu`` becomes an
``Identity``, every ``MaxPool`` an ``AvgPool`` of the same size, stride and
padding, every ``LRN`` a multiplication by ``bias ** -beta``. In that graph the
map from a layer's output to a later layer is linear, so its Jacobian
(``tf.gradients`` of one output position with respect to the fed source
tensor) must equal the expanded kernel placed at ``stride*p - anchor`` and be
zero everywhere else. :func:`jacobian_error` measures the largest difference,
relative to the kernel's largest weight, at a position ``p`` whose receptive
field stays off the borders (where padding makes average pools and
convolutions differ from their interior form), on a larger input when the
kernel does not fit inside the model's own (:func:`check_shape`).
"""

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import attr_value_pb2

from inception_tools.circuit import expand
from inception_tools.errors import UserError

tf1 = tf.compat.v1


def linearized(graph_def):
    """A copy of ``graph_def`` with ReLU -> identity, max pool -> average pool, LRN -> its scale at zero."""
    out = tf1.GraphDef()
    out.CopyFrom(graph_def)
    scales = []
    for node in out.node:
        if node.op == "Relu":
            node.op = "Identity"
        elif node.op == "MaxPool":
            node.op = "AvgPool"
            node.attr.pop("explicit_paddings", None)
        elif node.op == "LRN":
            scale = node.attr["bias"].f ** -node.attr["beta"].f
            for key in ("bias", "beta", "alpha", "depth_radius"):
                node.attr.pop(key, None)
            node.op = "Mul"
            node.input.append(f"{node.name}/linear_scale")
            scales.append((f"{node.name}/linear_scale", scale))
    for name, scale in scales:
        const = out.node.add()
        const.name, const.op = name, "Const"
        const.attr["dtype"].CopyFrom(attr_value_pb2.AttrValue(type=tf.float32.as_datatype_enum))
        const.attr["value"].CopyFrom(attr_value_pb2.AttrValue(tensor=tf1.make_tensor_proto(scale, tf.float32)))
    return out


def jacobian(graph_def, source, target, input_name, image_shape, weights, position):
    """d(sum_o weights[o] * target[0, p, p, o]) / d source of the linearized graph, [H, W, channels].

    Args:
        graph_def: the frozen GraphDef (linearized here).
        source, target: layer node names.
        input_name, image_shape: the image placeholder and its (H, W, 3).
        weights: float [channels of target]: which output channels, and how much of each.
        position: the output position ``p`` (row = column).
    """
    with tf.Graph().as_default() as graph:
        image = tf1.placeholder(tf.float32, (1,) + tuple(image_shape))
        tf1.import_graph_def(linearized(graph_def), input_map={f"{input_name}:0": image}, name="")
        src = graph.get_tensor_by_name(f"{source}:0")
        out = graph.get_tensor_by_name(f"{target}:0")
        y = tf1.reduce_sum(out[0, position, position] * tf1.constant(np.asarray(weights, np.float32)))
        (grad,) = tf1.gradients(y, src)
        with tf1.Session(graph=graph) as session:
            fed = np.zeros([1] + src.shape.as_list()[1:], np.float32)
            # the image is fed too: gradient ops may read shapes upstream of the source
            feed = {src: fed, image: np.zeros(image.shape.as_list(), np.float32)}
            return session.run(grad, feed)[0].astype(np.float64)


def centre_position(kernel, source_size, target_size):
    """The output position nearest the centre whose kernel window lies inside the source (one pixel off
    its borders), or None."""
    size = kernel.weights.shape[0]
    for p in sorted(range(target_size), key=lambda q: abs(q - target_size // 2)):
        start = kernel.stride * p - kernel.anchor
        if start >= 1 and start + size <= source_size - 1:
            return p
    return None


def check_shape(graph_def, source, target, input_name, image_shape, kernel, tries=8):
    """An input shape and output position where the whole kernel window lies inside the source.

    The model's own input size when it fits, else a larger one that keeps the padding of every strided
    op (the size plus a multiple of the input-to-target stride, so every intermediate size keeps its
    parity), hence the same expanded weights.

    Returns:
        ``(image_shape, position)``.
    """
    shapes = expand.static_shapes(graph_def, input_name, image_shape)
    step = 2 ** int(round(np.log2(image_shape[0] / shapes[target][1])))
    for m in range(tries):
        shape = (image_shape[0] + m * step, image_shape[1] + m * step, image_shape[2])
        if m:
            shapes = expand.static_shapes(graph_def, input_name, shape)
        position = centre_position(kernel, shapes[source][1], shapes[target][1])
        if position is not None:
            return shape, position
    raise UserError(f"the {kernel.weights.shape[0]}-pixel expanded kernel from {source} to {target} does not fit "
                    "inside the source away from its borders, so it cannot be checked")


def jacobian_error(graph_def, source, target, input_name, image_shape, kernel, weights):
    """Largest |Jacobian - placed kernel| over the whole source, relative to max |kernel|.

    ``kernel`` is :class:`~inception_tools.circuit.expand.Kernel` (weights [kh, kw, I, O]); the
    compared kernel is ``kernel.weights @ weights``, placed at ``stride*p - anchor`` for the position
    and input shape of :func:`check_shape`.
    """
    shape, position = check_shape(graph_def, source, target, input_name, image_shape, kernel)
    found = jacobian(graph_def, source, target, input_name, shape, weights, position)
    expected = np.zeros_like(found)
    start, size = kernel.stride * position - kernel.anchor, kernel.weights.shape[0]
    expected[start:start + size, start:start + size] = kernel.weights @ np.asarray(weights, np.float64)
    scale = np.abs(expected).max()
    return float(np.abs(found - expected).max() / scale) if scale > 0 else float(np.abs(found).max())
