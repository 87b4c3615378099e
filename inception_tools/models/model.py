"""A loaded model: a checked GraphDef, its Lucid model class, labels and layers."""

import copy
import os

import numpy as np
import tensorflow as tf

from inception_tools.errors import UserError
from inception_tools.models import catalog, graph, zoo

tf1 = tf.compat.v1

# What each purpose needs of a layer (said in the commands' --help and in the refusals).
LAYER_PURPOSES = {
    "ablate": "ablation replaces a hidden layer's output after its ReLU",
    "activations": "the statistics read a layer's output after its ReLU",
    "visualize": "renders and dataset examples read the layer's _pre_relu tensor",
}


class Model:
    """A frozen classifier ready for surgery (see docs/CONTRACTS.md)."""

    def __init__(self, name, lucid_model, graph_def, path, entry, label_lines):
        self.name = name
        self.path = path
        self.entry = entry
        self.output_name = entry.output_name
        self._logits = None
        if entry.card is not None and entry.card.output == "logits":  # the model has both: logits and softmax
            self._logits, self.output_name = self.output_name, self.output_name + "_softmax"
            graph_def = graph.with_softmax(graph_def, self._logits, self.output_name)
        self.lucid = lucid_model
        self.lucid._graph_def = graph_def
        self.graph_def = graph_def
        self.input_name = lucid_model.input_name
        self.image_shape = tuple(lucid_model.image_shape)
        self.value_range = tuple(lucid_model.image_value_range)
        self.default_top_k = entry.default_top_k
        self.diversity_weight = entry.diversity_weight
        present = graph.node_names(graph_def)
        self.layer_depths = {layer.name: layer.depth for layer in lucid_model.layers if layer.name in present}
        self.num_classes = self.layer_depths.get(self.output_name) or _output_width(
            graph_def, self.output_name, self.input_name, self.image_shape)
        if label_lines is None:  # no labels file: the classes are named by their index
            label_lines = [str(i) for i in range(self.num_classes)]
        self.label_ids, self.label_names = _labels(label_lines, self.num_classes)

    def depth(self, layer):
        if not isinstance(layer, str):
            raise UserError(f"a layer is a name such as {next(iter(self.layer_depths))!r}, not {layer!r}")
        base = layer[: -len("_pre_relu")] if layer.endswith("_pre_relu") else layer
        if base not in self.layer_depths:
            raise UserError(f"unknown layer {layer!r} for {self.name}; layers: {', '.join(self.layer_depths)}")
        return self.layer_depths[base]

    def check_pre_relu(self, layer):
        """Raise UserError unless ``layer`` has the ``<layer>_pre_relu`` tensor that
        visualization objectives and dataset examples read."""
        self.depth(layer)
        nodes = {node.name: node.op for node in self.graph_def.node}
        if nodes.get(layer) != "Concat" and f"{layer}_pre_relu" not in nodes:  # Lucid adds the Concat's
            raise UserError(f"layer {layer} of {self.name} has no {layer}_pre_relu tensor to visualize")

    def check_layer(self, layer, purpose):
        """Raise UserError unless ``layer`` suits ``purpose``; return ``layer``.

        Purposes (see :data:`LAYER_PURPOSES`): ``"ablate"`` (importance, basis: the surgery replaces
        the layer's output, so a hidden layer named without ``_pre_relu``), ``"activations"``
        (class statistics: any layer's output, the model's output included, without ``_pre_relu``),
        ``"visualize"`` (renders and dataset examples: a layer with a ``_pre_relu`` tensor).
        """
        if purpose not in LAYER_PURPOSES:
            raise ValueError(f"unknown layer purpose {purpose!r}")
        if not isinstance(layer, str):
            raise UserError(f"a layer is a name such as {next(iter(self.layer_depths))!r}, not {layer!r}")
        self.depth(layer)
        if purpose == "visualize":
            self.check_pre_relu(layer)
            return layer
        if layer.endswith("_pre_relu"):
            base = layer[: -len("_pre_relu")]
            raise UserError(f"layer {layer}: {LAYER_PURPOSES[purpose]}; give {base}")
        if purpose == "ablate" and layer == self.output_name:
            hidden = [name for name in self.layer_depths if name != self.output_name]
            raise UserError(f"layer {layer} is the model's output, not a hidden layer ({LAYER_PURPOSES[purpose]}); "
                            f"hidden layers: {', '.join(hidden)}")
        return layer

    def check_top_k(self, top_k):
        """Raise UserError unless 1 <= ``top_k`` < the number of classes (every image is in the top all)."""
        if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or not 1 <= top_k < self.num_classes:
            raise UserError(f"top_k must be an integer from 1 to {self.num_classes - 1}, not {top_k!r} "
                            f"({self.name} has {self.num_classes} outputs: in the top {self.num_classes} every "
                            "image is right and every importance is 0)")
        return int(top_k)

    def check_channels(self, layer, channels):
        """The channels as a list of ints; UserError for a non-integer or one outside 0..depth-1."""
        depth = self.depth(layer)
        try:
            channels = list(channels)
        except TypeError:
            raise UserError(f"channels must be a list of channel numbers, not {channels!r}") from None
        for c in channels:
            if isinstance(c, bool) or not isinstance(c, (int, np.integer)):
                raise UserError(f"channels must be integers, not {c!r}")
            if not 0 <= c < depth:
                raise UserError(f"channel {c} out of range: {layer} has channels 0-{depth - 1}")
        if not channels:
            raise UserError("channels selects no channel")
        return [int(c) for c in channels]

    def with_graph_def(self, graph_def):
        """A copy of this model whose Lucid import uses ``graph_def`` (after surgery)."""
        clone = copy.copy(self)
        clone.lucid = copy.copy(self.lucid)
        clone.lucid._graph_def = graph_def
        clone.graph_def = graph_def
        return clone

    def import_graph(self, t_input=None, scope="import"):
        """Lucid's ``import_graph``: ``t_input`` takes [N, H, W, 3] images in [0, 1]."""
        if t_input is None:
            t_input = tf1.placeholder(tf.float32, (None,) + self.image_shape, name="images01")
        T = self.lucid.import_graph(t_input, scope=scope)
        return t_input, T

    def logits_name(self):
        """Pre-softmax node of the output when the graph has one, else None.

        ``<output>_pre_activation`` (Lucid's InceptionV1), the logits a card names, or else the input
        of a ``Softmax`` output op (the slim models' ``predictions/Softmax``).
        """
        if self._logits:
            return self._logits
        name = self.output_name + "_pre_activation"
        if name in graph.node_names(self.graph_def):
            return name
        output = next((node for node in self.graph_def.node if node.name == self.output_name), None)
        if output is not None and output.op == "Softmax" and output.input:
            source = output.input[0]
            return source[: -len(":0")] if source.endswith(":0") else source
        return None


def _output_width(graph_def, output_name, input_name, image_shape):
    for node in graph_def.node:
        if node.name == output_name + "_b" and node.op == "Const":
            return node.attr["value"].tensor.tensor_shape.dim[0].size
    width = graph.output_width(graph_def, input_name, image_shape, output_name)
    if width is None:
        raise UserError(f"cannot tell the number of classes of {output_name}")
    return width


def _labels(lines, num_classes):
    """Line i of a label file is output i; 'dummy' lines and missing tail entries are marked."""
    ids, names = [], []
    for line in lines[:num_classes]:
        token, _, rest = line.strip().partition(" ")
        if "dummy" in line.lower() or not token:
            token, rest = "dummy", "dummy"
        ids.append(token)
        names.append(rest.strip() or token)
    for i in range(len(ids), num_classes):
        ids.append(f"unused-{i}")
        names.append(f"unused output {i}")
    return ids, names


def _read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line for line in f.read().splitlines() if line.strip()]


def _resolve_path(name, entry, lucid_class, path):
    path = path or catalog.env_path(entry)
    if path:
        return os.fspath(path)
    model_path = lucid_class.model_path
    if model_path.startswith("gs://"):
        needed = [lucid_class.input_name, entry.output_name]
        return zoo.fetch(model_path, check=lambda tmp: graph.require_nodes(graph.read_graphdef(tmp), needed, tmp))
    return model_path


def _fetched_lines(path):
    return _read_lines(zoo.fetch(path) if path.startswith("gs://") else path)


def _label_lines(entry, lucid_class, model_path):
    """Label lines (``id name`` or ``name``), or None for a card without labels (classes named by index)."""
    if entry.card is not None:
        return _read_lines(entry.card.labels) if entry.card.labels else None
    beside = os.path.join(os.path.dirname(model_path), entry.label_file)
    if entry.label_file and os.path.isfile(beside):
        return _read_lines(beside)
    synsets = getattr(lucid_class, "synsets_path", None)
    names = getattr(lucid_class, "labels_path", None)
    if not entry.label_file and synsets and names and synsets.startswith("gs://"):
        # a zoo class: ids from its synsets file, names from its labels file, line by line
        ids, titles = _fetched_lines(synsets), _fetched_lines(names)
        return [f"{i.split()[0]} {t}" if i.strip() else t for i, t in zip(ids, titles)] + titles[len(ids):]
    synsets = synsets or names
    if synsets and synsets.startswith("gs://"):
        return _read_lines(zoo.fetch(synsets))
    if synsets and os.path.isfile(synsets):
        return _read_lines(synsets)
    raise UserError(f"no label file for {model_path}: expected {beside}")


def load_model(name, path=None, layers=(), card=None):
    """Load model ``name`` checked for ``layers``.

    Args:
        name: ``embedded`` (default model), ``InceptionV1``, any class of ``lucid.modelzoo.vision_models``
            (``ResnetV2_50_slim``), or a model file: a frozen ``.pb``, a Keras ``.keras``/``.h5`` file or a
            SavedModel folder (see :mod:`inception_tools.models.card`).
        path: a local copy of a named model's GraphDef, instead of the download.
        layers: layers the run needs; UserError when one is missing.
        card: a model card for a model file (default: ``<file>.card.json`` beside it; Keras and
            SavedModel: the card written when it was frozen).

    Returns:
        A :class:`Model`.
    """
    entry = catalog.entry(name, card)
    lucid_class = catalog.lucid_class(entry)
    model_path = _resolve_path(name, entry, lucid_class, path)
    graph_def = graph.read_graphdef(model_path)
    if entry.card is not None:
        entry.card.check_graph(graph.node_names(graph_def), model_path)
    lucid_model = lucid_class()
    graph_def = graph.with_pre_relu(graph_def, [layer.name for layer in lucid_model.layers])
    base_layers = [layer[: -len("_pre_relu")] if layer.endswith("_pre_relu") else layer for layer in layers]
    declared = [layer.name for layer in lucid_model.layers]
    for layer in base_layers:
        if layer not in declared:
            raise UserError(f"unknown layer {layer!r} for {name}; layers: {', '.join(declared)}")
    graph.require_nodes(graph_def, [lucid_model.input_name, entry.output_name, *base_layers], model_path)
    graph.check_shapes(graph_def, lucid_model.input_name, tuple(lucid_model.image_shape),
                       {layer.name: layer.depth for layer in lucid_model.layers}, model_path)
    model = Model(name, lucid_model, graph_def, model_path, entry, _label_lines(entry, lucid_class, model_path))
    for layer in layers:
        model.depth(layer)
    return model
