"""Reading and checking frozen GraphDef files.

A model file is accepted when it parses as a ``GraphDef``, holds every node
a run needs (input, output, the layers asked for) and its tensors have the
shapes the model class declares: imported with an input of the declared image
size, each declared layer present must have the declared number of channels.
A truncated download, an HTML error page or another network's file with the
same node names fails one of those checks and is reported in one line; nodes a
run does not need (InceptionV1's auxiliary heads ``nn0``/``softmax0``/``nn1``/
``softmax1``, say) may be missing.
"""

import os

import tensorflow as tf
from google.protobuf.message import DecodeError

from inception_tools.errors import UserError


def read_graphdef(path):
    """Parse ``path`` as a frozen GraphDef, or raise UserError saying why not."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise UserError(f"model file not found: {path}")
    with open(path, "rb") as f:
        data = f.read()
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except (DecodeError, RuntimeWarning, ValueError) as e:
        raise UserError(f"{path} is not a frozen TensorFlow GraphDef (truncated or wrong file?): {e}") from None
    if not graph_def.node:
        raise UserError(f"{path} holds no graph nodes (empty, truncated or wrong file?)")
    for node in graph_def.node:
        node.device = ""
    return graph_def


def ancestor_ops(tensor, stop=()):
    """The ops ``tensor`` depends on (itself included), not looking past the ops of ``stop``."""
    stop_ops = {t.op for t in stop}
    seen, stack = set(), [tensor.op]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        if op in stop_ops:
            continue
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return seen


def node_names(graph_def):
    return {node.name for node in graph_def.node}


def check_shapes(graph_def, input_name, image_shape, depths, path):
    """Raise UserError unless ``graph_def`` imports with a [N, *image_shape] input and
    every layer of ``depths`` (name -> channels) in it has that many channels."""
    placeholder = next((node for node in graph_def.node if node.name == input_name and node.op == "Placeholder"), None)
    dims = [d.size for d in placeholder.attr["shape"].shape.dim] if placeholder is not None else []
    if len(dims) == 4 and all(d > 0 for d in dims[1:]) and tuple(dims[1:]) != tuple(image_shape):
        raise UserError(f"image size {'x'.join(map(str, image_shape))} does not match {path}, whose input "
                        f"{input_name!r} takes {'x'.join(map(str, dims[1:]))} images")
    with tf.Graph().as_default():
        images = tf.compat.v1.placeholder(tf.float32, (None, *image_shape))
        present = node_names(graph_def)
        names = [name for name in depths if name in present]
        try:
            tensors = tf.compat.v1.import_graph_def(graph_def, {input_name: images}, [f"{n}:0" for n in names],
                                                    name="check")
        except (ValueError, tf.errors.OpError) as e:
            reason = str(e).strip().splitlines()[0]
            raise UserError(f"{path} does not fit a {'x'.join(map(str, image_shape))} input: {reason}") from None
    for name, tensor in zip(names, tensors):
        channels = tensor.shape[-1] if tensor.shape.rank else None
        if channels is not None and channels != depths[name]:
            raise UserError(f"{path}: layer {name} has {channels} channels where the model declares "
                            f"{depths[name]}: another network's file?")


def require_nodes(graph_def, names, path):
    """Raise UserError naming the first nodes of ``names`` missing from ``graph_def``."""
    present = node_names(graph_def)
    missing = [name for name in names if name not in present]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise UserError(f"{path} lacks nodes this run needs ({shown}): truncated or wrong model file?")


def with_softmax(graph_def, logits, name):
    """Copy of ``graph_def`` with ``name`` = ``Softmax(logits)`` added (a model whose output is logits)."""
    added = tf.compat.v1.GraphDef()
    added.CopyFrom(graph_def)
    node = added.node.add()
    node.name, node.op = name, "Softmax"
    node.input.append(logits)
    node.attr["T"].type = tf.float32.as_datatype_enum
    return added


def with_pre_relu(graph_def, layers):
    """Copy of ``graph_def`` where every layer of ``layers`` has a ``<layer>_pre_relu`` tensor.

    Visualization objectives and dataset examples read ``<layer>_pre_relu``
    (Lucid's convention). A layer that lacks it gets an ``Identity`` node of
    that name: of the ReLU's input when the layer is a ``Relu``/``Relu6``, else
    of the layer itself (an add, a ``ConcatV2``, a pool). Untouched: layers
    that have one, ``Concat`` nodes (Lucid's InceptionV1 classes add theirs at
    import), ``Softmax`` outputs and layers the graph lacks.
    """
    nodes = {node.name: node for node in graph_def.node}
    missing = [name for name in layers if name in nodes and f"{name}_pre_relu" not in nodes
               and nodes[name].op not in ("Concat", "Softmax")]
    if not missing:
        return graph_def
    added = tf.compat.v1.GraphDef()
    added.CopyFrom(graph_def)
    for name in missing:
        source = nodes[name]
        node = added.node.add()
        node.name, node.op = f"{name}_pre_relu", "Identity"
        node.input.append(source.input[0] if source.op in ("Relu", "Relu6") and source.input else name)
        node.attr["T"].type = tf.float32.as_datatype_enum
    return added


def output_width(graph_def, input_name, image_shape, output_name):
    """Channels of ``output_name`` imported with a [None, *image_shape] input, or None if unknown."""
    with tf.Graph().as_default():
        images = tf.compat.v1.placeholder(tf.float32, (None, *image_shape))
        try:
            (tensor,) = tf.compat.v1.import_graph_def(graph_def, {input_name: images}, [f"{output_name}:0"],
                                                      name="width")
        except (ValueError, tf.errors.OpError):
            return None
    return int(tensor.shape[-1]) if tensor.shape.rank and tensor.shape[-1] is not None else None
