"""Which nodes of a frozen graph are layers worth studying, and a card proposed from them.

The graph is imported with a ``[None, H, W, C]`` input; a node is proposed as
a layer when its first output is a rank-4 activation and its op is a
convolution's non-linearity (``Relu``, ``Relu6``, ``Elu``, ``Selu``), a residual
``Add``/``AddV2`` or a ``Concat``/``ConcatV2`` of branches; the classifier's
``Softmax`` (or a rank-2 matrix product without one) is proposed as the
output. A non-linearity that directly follows an add or a concat proposes
that node instead of both. Graph order is kept, so the listing reads from the
input to the output.
"""

import tensorflow as tf

from inception_tools.errors import UserError
from inception_tools.models.card import Card

tf1 = tf.compat.v1

KINDS = {"Relu": "conv", "Relu6": "conv", "Elu": "conv", "Selu": "conv",
         "Add": "add", "AddV2": "add", "Concat": "concat", "ConcatV2": "concat"}


def placeholders(graph_def):
    return [node for node in graph_def.node if node.op == "Placeholder"]


def _placeholder_shape(node):
    dims = [d.size for d in node.attr["shape"].shape.dim]
    return tuple(dims[1:]) if len(dims) == 4 and all(d > 0 for d in dims[1:]) else None


def propose_layers(graph_def, input_name, image_shape):
    """``[(name, depth, kind)]`` of the graph's conv/add/concat layers and its output, in graph order."""
    with tf.Graph().as_default() as graph:
        images = tf1.placeholder(tf.float32, (None, *image_shape))
        try:
            tf1.import_graph_def(graph_def, {input_name: images}, name="")
        except (ValueError, tf.errors.OpError) as e:
            raise UserError(f"the graph does not fit a {'x'.join(map(str, image_shape))} input: "
                            f"{str(e).strip().splitlines()[0]}") from None
        proposed, replaced = [], set()
        for op in graph.get_operations():
            if not op.outputs or op.outputs[0].dtype != tf.float32:
                continue
            shape = op.outputs[0].shape
            if op.type in KINDS and shape.rank == 4 and shape[-1] is not None:
                source = op.inputs[0].op if op.inputs else None
                if KINDS[op.type] == "conv" and source is not None and source.type in KINDS:
                    replaced.add(source.name)  # add -> relu: the relu is the block's output
                proposed.append((op.name, int(shape[-1]), KINDS[op.type]))
            elif op.type == "Softmax" and shape.rank == 2 and shape[-1] is not None:
                proposed.append((op.name, int(shape[-1]), "dense"))
    return [layer for layer in proposed if layer[0] not in replaced]


def propose_card(graph_def, image_shape=None, value_range=(0, 1), source=""):
    """A card for a frozen graph with one placeholder: its layers, its last softmax as the output.

    The value range and channel order cannot be read from a graph; they are
    marked ``guessed``. ``image_shape`` is needed where the placeholder has no
    fixed size.
    """
    inputs = placeholders(graph_def)
    if len(inputs) != 1:
        raise UserError(f"{source or 'the graph'} has {len(inputs)} placeholders where an image classifier has one")
    image_shape = tuple(image_shape or _placeholder_shape(inputs[0]) or ())
    if len(image_shape) != 3:
        raise UserError(f"{source or 'the graph'}: its input has no fixed image size; give one in a model card")
    layers = propose_layers(graph_def, inputs[0].name, image_shape)
    outputs = [layer for layer in layers if layer[2] == "dense"]
    if not outputs:
        raise UserError(f"{source or 'the graph'} is not an image classifier: no softmax output found")
    convs = [layer for layer in layers if layer[2] != "dense"]
    kept = tuple(convs) + (outputs[-1],)
    default_layer = convs[-2][0] if len(convs) > 1 else (convs[0][0] if convs else "")
    return Card(inputs[0].name, image_shape, tuple(value_range), outputs[-1][0], "probabilities", "RGB", kept,
                None, 1 if outputs[-1][1] < 100 else 5, default_layer, ("value_range", "channel_order"), source)
