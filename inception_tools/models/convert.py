"""Keras files and SavedModel folders, frozen once into a cached GraphDef with a card.

Method: the model is loaded (``keras.models.load_model`` for ``.keras`` /
``.h5``, ``tf.saved_model.load`` and its ``serving_default`` signature for a
SavedModel folder), traced as a ``tf.function`` with a ``[None, H, W, C]``
input named ``input`` (the signature's own name for a SavedModel), and its
variables turned into constants with TensorFlow's
``convert_variables_to_constants_v2``. The result is cached under
``<cache>/frozen/<sha256 of the file>.pb`` with its card
``<sha256>.card.json``, so a file is converted once and a changed file is
converted again.

A Keras model is traced with every layer's output as an extra output, and the
node that computes a layer's output is renamed to the Keras layer's name
(its input to ``<name>_pre_relu`` when the layer ends in a ReLU, and to
``<name>_pre_activation`` when it ends in a softmax, Lucid's conventions), so
a Keras layer name *is* a layer of the frozen graph. A SavedModel keeps its
node names; its card lists the layers :mod:`.layers` proposes.

A model is refused in one line unless it is an image classifier: one input
``[None, H, W, 1 or 3]`` and one output ``[None, classes]``. The value range
and channel order cannot be read from a file; the written card says ``[0, 1]``
and ``RGB`` and marks them ``guessed``.
"""

import hashlib
import logging
import os

import tensorflow as tf

from inception_tools.atomic import atomic_open
from inception_tools.errors import UserError
from inception_tools.models import card as cards
from inception_tools.models import layers as proposals
from inception_tools.models import zoo

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
ACTIVATION_SUFFIX = {"Relu": "_pre_relu", "Relu6": "_pre_relu", "Softmax": "_pre_activation"}


def is_saved_model(path):
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, "saved_model.pb"))


def is_convertible(path):
    """True for a Keras file or a SavedModel folder."""
    path = os.fspath(path)
    return path.lower().endswith(KERAS_SUFFIXES) or is_saved_model(path)


def file_hash(path):
    """sha256 of a file, or of a folder's relative paths and contents."""
    digest = hashlib.sha256()
    files = [path] if os.path.isfile(path) else sorted(
        os.path.join(root, name) for root, _, names in os.walk(path) for name in names)
    for name in files:
        digest.update(os.path.relpath(name, path).encode() + b"\0")
        with open(name, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def frozen_paths(path):
    """``(frozen .pb, its card)`` in the cache for the Keras file or SavedModel at ``path``."""
    base = os.path.join(zoo.cache_dir(), "frozen", file_hash(path))
    return base + ".pb", base + ".card.json"


def freeze(path):
    """The cached frozen GraphDef path and card of ``path``, converting it the first time."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise UserError(f"model file not found: {path}")
    pb_path, card_path = frozen_paths(path)
    if not (os.path.isfile(pb_path) and os.path.isfile(card_path)):
        logging.getLogger("inception_tools").info(f"freezing {path} into {pb_path} (once)")
        graph_def, card = _saved_model(path) if is_saved_model(path) else _keras(path)
        with atomic_open(pb_path, "wb") as f:
            f.write(graph_def.SerializeToString(deterministic=True))
        cards.write_card(card, card_path)
    return pb_path, cards.read_card(card_path)


def _refuse_shapes(path, input_shapes, output_shapes):
    if len(input_shapes) != 1 or len(input_shapes[0]) != 4 or input_shapes[0][-1] not in (1, 3):
        raise UserError(f"{path} is not an image classifier: its inputs are {input_shapes}, not one [N, H, W, 3] image")
    if len(output_shapes) != 1 or len(output_shapes[0]) != 2:
        raise UserError(f"{path} is not an image classifier: its outputs are {output_shapes}, not one [N, classes]")
    if not all(isinstance(s, int) for s in input_shapes[0][1:]):
        raise UserError(f"{path}: its input has no fixed image size ({input_shapes[0]})")


def _freeze_function(fn):
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    frozen = convert_variables_to_constants_v2(fn)
    return frozen.graph.as_graph_def(), [t.name for t in frozen.outputs], [t.name for t in frozen.inputs]


def _keras(path):
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises many kinds for a file that is not a model
        raise UserError(f"cannot read {path} as a Keras model: {str(e).strip().splitlines()[0][:200]}") from None
    _refuse_shapes(path, [tuple(t.shape) for t in model.inputs], [tuple(t.shape) for t in model.outputs])
    output_layer = model.outputs[0]
    studied = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)
               and _single_image_output(layer) and layer.output is not output_layer]
    traced = keras.Model(model.inputs, [layer.output for layer in studied] + [output_layer])
    spec = tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32, name="input")
    fn = tf.function(lambda x: traced(x, training=False)).get_concrete_function(spec)
    graph_def, outputs, _ = _freeze_function(fn)
    output_name = model.layers[-1].name if model.layers[-1].output is output_layer else "output"
    names = [layer.name for layer in studied] + [output_name]
    graph_def, renamed = _rename_outputs(graph_def, outputs, names)
    nodes = {node.name: node.op for node in graph_def.node}
    kinds = {layer.name: _kind(layer) for layer in studied}
    layer_list = [(name, int(layer.output.shape[-1]), kinds[name]) for name, layer in zip(names, studied)
                  if name in renamed]
    if output_name not in renamed:
        raise UserError(f"{path}: cannot find the node of its output layer {output_name!r}")
    output = "probabilities" if nodes.get(output_name) == "Softmax" else "logits"
    layer_list.append((output_name, int(output_layer.shape[-1]), "dense"))
    main = [name for name, _, kind in layer_list if kind in ("conv", "add", "concat")]
    card = cards.Card("input", tuple(int(s) for s in model.inputs[0].shape[1:]), (0, 1), output_name, output, "RGB",
                      tuple(layer_list), None, _top_k(int(output_layer.shape[-1])),
                      main[-2] if len(main) > 1 else (main[0] if main else ""), ("value_range", "channel_order"), path)
    return graph_def, card


def _single_image_output(layer):
    """True when ``layer`` has one output, a [N, H, W, C] activation (a layer used twice has none)."""
    try:
        outputs = tf.nest.flatten(layer.output)
    except (AttributeError, ValueError):
        return False
    return len(outputs) == 1 and len(outputs[0].shape) == 4


def _kind(layer):
    name = type(layer).__name__
    if name in ("Add",):
        return "add"
    if name in ("Concatenate",):
        return "concat"
    if "Conv" in name or name in ("ReLU", "Activation"):
        return "conv"
    return "other"


def _rename_outputs(graph_def, output_tensors, names):
    """Rename the node behind each output tensor to ``names[i]`` (its activation's input too) and drop
    the output Identity nodes. Returns the new GraphDef and the set of names given."""
    by_name = {node.name: node for node in graph_def.node}
    present = set(by_name)
    mapping, given = {}, set()
    for tensor, new in zip(output_tensors, names):
        identity = by_name[tensor.split(":")[0]]
        source = identity.input[0].split(":")[0]
        if source in mapping or new in present or new in given or identity.input[0].endswith((":1", ":2")):
            continue
        mapping[source] = new
        given.add(new)
        suffix = ACTIVATION_SUFFIX.get(by_name[source].op)
        pre = by_name[source].input[0].split(":")[0] if suffix and by_name[source].input else None
        if pre and pre not in mapping and new + suffix not in present:
            mapping[pre] = new + suffix
    outputs = {t.split(":")[0] for t in output_tensors}
    renamed = tf.compat.v1.GraphDef()
    for node in graph_def.node:
        if node.name in outputs or node.op == "NoOp":
            continue
        copy = renamed.node.add()
        copy.CopyFrom(node)
        copy.name = mapping.get(node.name, node.name)
        copy.input[:] = [_renamed_input(i, mapping) for i in node.input if not i.startswith("^")]
    renamed.versions.CopyFrom(graph_def.versions)
    renamed.library.CopyFrom(graph_def.library)
    return renamed, given


def _renamed_input(text, mapping):
    name, sep, port = text.partition(":")
    return mapping.get(name, name) + sep + port


def _saved_model(path):
    try:
        loaded = tf.saved_model.load(path)
        fn = loaded.signatures["serving_default"]
    except (KeyError, OSError, ValueError, tf.errors.OpError) as e:
        raise UserError(f"cannot read {path} as a SavedModel with a serving_default signature: "
                        f"{str(e).strip().splitlines()[0][:200]}") from None
    inputs = [tuple(spec.shape) for spec in tf.nest.flatten(fn.structured_input_signature)]
    outputs = [tuple(spec.shape) for spec in tf.nest.flatten(fn.structured_outputs)]
    _refuse_shapes(path, inputs, outputs)
    graph_def, _, input_tensors = _freeze_function(fn)
    graph_def = _drop_control_inputs(graph_def)
    card = proposals.propose_card(graph_def, inputs[0][1:], source=path)
    card = cards.Card(input_tensors[0].split(":")[0], card.image_shape, card.value_range, card.output_name,
                      card.output, card.channel_order, card.layers, None, card.default_top_k, card.default_layer,
                      card.guessed, path)
    return graph_def, card


def _drop_control_inputs(graph_def):
    """The frozen graph without NoOps and control edges (a SavedModel's call bookkeeping)."""
    kept = tf.compat.v1.GraphDef()
    for node in graph_def.node:
        if node.op == "NoOp":
            continue
        copy = kept.node.add()
        copy.CopyFrom(node)
        copy.input[:] = [i for i in node.input if not i.startswith("^")]
    kept.versions.CopyFrom(graph_def.versions)
    kept.library.CopyFrom(graph_def.library)
    return kept


def _top_k(classes):
    """The importance score's default top-k: top-1 for a few classes (digits), top-5 for ImageNet-size outputs."""
    return 1 if classes < 100 else 5
