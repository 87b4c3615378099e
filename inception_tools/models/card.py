"""Model cards: what the toolkit must know about a classifier it has no Lucid class for.

A card is a small JSON file, ``<model file>.card.json`` beside the model (or
any path given explicitly), with these keys::

    {"input_name": "input", "image_shape": [224, 224, 3],
     "value_range": [-1, 1], "channel_order": "RGB",
     "output_name": "predictions", "output": "probabilities",
     "layers": [{"name": "block3/add", "depth": 512, "kind": "add"}, ...],
     "labels": "labels.txt", "default_top_k": 5, "default_layer": "block3/add"}

- ``value_range``: the pixel range the graph's input expects; images in
  [0, 1] are mapped to it (Lucid's ``create_input``). Two numbers, or two
  lists of three (per channel, as Lucid's caffe models).
- ``channel_order``: ``RGB`` or ``BGR`` (the colour channels are reversed
  before the value range is applied, as Lucid does for caffe models).
- ``output``: ``probabilities`` (a softmax output; its input, when it is a
  ``Softmax`` op, is taken as the logits) or ``logits`` (a softmax is added
  at load time, so the model has both).
- ``layers``: node names with their channel counts (``inception-tools models
  --list-layers FILE`` proposes them: convolutions, concats, adds).
- ``labels``: a label file (one class a line, ``id name`` or ``name``),
  relative to the card; ``null`` names the classes by their index.
- ``guessed``: the keys written by a program rather than a person (the value
  range and channel order of a Keras file cannot be read from it).

:func:`read_card` refuses a card with missing or malformed keys in one line;
:meth:`Card.check_graph` refuses one that names a node the graph lacks.
"""

import dataclasses
import json
import os
from typing import Optional

from inception_tools.atomic import atomic_open
from inception_tools.errors import UserError

OUTPUTS = ("probabilities", "logits")
CHANNEL_ORDERS = ("RGB", "BGR")


@dataclasses.dataclass(frozen=True)
class Card:
    input_name: str
    image_shape: tuple
    value_range: tuple
    output_name: str
    output: str = "probabilities"
    channel_order: str = "RGB"
    layers: tuple = ()  # ((name, depth, kind), ...)
    labels: Optional[str] = None  # absolute path, or None: classes named by index
    default_top_k: int = 1
    default_layer: str = ""
    guessed: tuple = ()
    source: str = ""  # where the card was read from

    def layer_depths(self):
        return {name: depth for name, depth, _ in self.layers}

    def lucid_class(self, model_path):
        """A Lucid model class declaring this card's model at ``model_path``."""
        from inception_tools.lucid_compat import import_lucid

        import_lucid()
        from lucid.modelzoo.vision_base import Model, _layers_from_list_of_dicts

        attributes = dict(model_path=model_path, image_shape=list(self.image_shape),
                          image_value_range=self.value_range, input_name=self.input_name,
                          is_BGR=self.channel_order == "BGR")
        cls = type("CardModel", (Model,), attributes)
        cls.layers = _layers_from_list_of_dicts(cls(), [
            {"name": name, "depth": depth, "tags": ["dense" if kind == "dense" else "conv"]}
            for name, depth, kind in self.layers])
        return cls

    def check_graph(self, node_names, path):
        """Raise UserError when the card names a node that the graph at ``path`` lacks."""
        for what, name in [("input", self.input_name), ("output", self.output_name)] + [
                ("layer", name) for name, _, _ in self.layers]:
            if name not in node_names:
                raise UserError(f"model card {self.source or '(given)'} names {what} node {name!r}, "
                                f"which {path} lacks")

    def to_json(self, card_dir):
        labels = os.path.relpath(self.labels, card_dir) if self.labels else None
        return {"input_name": self.input_name, "image_shape": list(self.image_shape),
                "value_range": _plain(self.value_range), "channel_order": self.channel_order,
                "output_name": self.output_name, "output": self.output,
                "layers": [{"name": n, "depth": d, "kind": k} for n, d, k in self.layers],
                "labels": labels, "default_top_k": self.default_top_k, "default_layer": self.default_layer,
                "guessed": list(self.guessed)}


def _plain(value):
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else float(value)


def card_path_for(model_path):
    """Where the card of ``model_path`` is looked for: ``<model_path>.card.json``."""
    return os.fspath(model_path).rstrip("/\\") + ".card.json"


def write_card(card, path):
    """Write ``card`` as JSON at ``path`` (atomically); label paths relative to it."""
    data = card.to_json(os.path.dirname(os.path.abspath(path)))
    layers = data.pop("layers")
    lines = [f" {json.dumps(key)}: {json.dumps(value)}," for key, value in data.items()]
    rows = ",\n".join(f"  {json.dumps(layer)}" for layer in layers)
    with atomic_open(path) as f:
        f.write("{\n" + "\n".join(lines) + f'\n "layers": [\n{rows}\n ]\n}}\n')
    return path


def _field(data, key, kind, path, default=dataclasses.MISSING):
    if key not in data:
        if default is dataclasses.MISSING:
            raise UserError(f"model card {path} lacks the key {key!r}")
        return default
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise UserError(f"model card {path}: {key} must be {kind.__name__ if isinstance(kind, type) else 'a list'}, "
                        f"not {value!r}")
    return value


def _value_range(value, path):
    flat = [v for part in value for v in (part if isinstance(part, list) else [part])] if isinstance(value, list) else []
    if len(value or ()) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat):
        raise UserError(f"model card {path}: value_range must be [low, high], not {value!r}")
    return tuple(tuple(part) if isinstance(part, list) else part for part in value)


def card_from_json(data, path):
    """A :class:`Card` from parsed JSON ``data`` read at ``path``; UserError for a malformed one."""
    if not isinstance(data, dict):
        raise UserError(f"model card {path} is not a JSON object")
    shape = _field(data, "image_shape", list, path)
    if len(shape) != 3 or not all(isinstance(s, int) and s > 0 for s in shape) or shape[2] not in (1, 3):
        raise UserError(f"model card {path}: image_shape must be [height, width, 3], not {shape!r}")
    output = _field(data, "output", str, path, "probabilities")
    if output not in OUTPUTS:
        raise UserError(f"model card {path}: output must be one of {', '.join(OUTPUTS)}, not {output!r}")
    order = _field(data, "channel_order", str, path, "RGB")
    if order not in CHANNEL_ORDERS:
        raise UserError(f"model card {path}: channel_order must be RGB or BGR, not {order!r}")
    layers = []
    for item in _field(data, "layers", list, path, []):
        if not (isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("depth"), int)):
            raise UserError(f"model card {path}: each layer needs a name and a depth, not {item!r}")
        layers.append((item["name"], item["depth"], str(item.get("kind", "conv"))))
    labels = data.get("labels")
    if labels is not None:
        if not isinstance(labels, str):
            raise UserError(f"model card {path}: labels must be a file name or null")
        labels = os.path.join(os.path.dirname(os.path.abspath(path)), labels)
        if not os.path.isfile(labels):
            raise UserError(f"model card {path} names a labels file that does not exist: {labels}")
    top_k = _field(data, "default_top_k", int, path, 1)
    if top_k < 1:
        raise UserError(f"model card {path}: default_top_k must be at least 1")
    default_layer = _field(data, "default_layer", str, path, "") or (layers[-2][0] if len(layers) > 1 else "")
    if default_layer and default_layer not in {name for name, _, _ in layers}:
        raise UserError(f"model card {path}: default_layer {default_layer!r} is not one of its layers")
    return Card(_field(data, "input_name", str, path), tuple(shape),
                _value_range(_field(data, "value_range", list, path), path), _field(data, "output_name", str, path),
                output, order, tuple(layers), labels, top_k, default_layer, tuple(data.get("guessed") or ()),
                os.fspath(path))


def read_card(path):
    """The card at ``path``; UserError when it is missing, not JSON or malformed."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise UserError(f"model card not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError(f"model card {path} is not valid JSON: {e}") from None
    return card_from_json(data, path)
