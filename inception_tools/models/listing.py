"""What the ``models`` command shows: the models known by name, a model's layers, a proposed card.

Everything here reads Lucid's class declarations, cards and graphs; nothing
is downloaded (a zoo model's layers are declared by its class).
"""

import os

from inception_tools.errors import UserError
from inception_tools.models import card as cards
from inception_tools.models import catalog, graph, layers, zoo


def _range_text(value_range):
    lo, hi = value_range
    if hasattr(lo, "__len__"):
        return "caffe mean-subtracted"
    return f"[{lo:g}, {hi:g}]"


def local_file(name, entry):
    """Where a local file of model ``name`` is known: the environment, the cache, the package; else ''."""
    if catalog.env_path(entry):
        return catalog.env_path(entry)
    cls = catalog.lucid_class(entry)
    path = cls.model_path
    if path.startswith("gs://"):
        return zoo.cached_path(path) if os.path.isfile(zoo.cached_path(path)) else ""
    return path if os.path.isfile(path) else ""


def model_lines():
    """One line per model known by name: name, layers, default layer, input, local file."""
    names = list(catalog.ENTRIES) + [n for n in catalog.zoo_names() if n not in catalog.ENTRIES]
    rows = [("model", "layers", "default layer", "input", "local file")]
    for name in names:
        try:
            entry = catalog.entry(name)
        except UserError:  # a zoo class without layers (CLIP)
            rows.append((name, "0", "-", "-", "not a classifier"))
            continue
        cls = catalog.lucid_class(entry)
        shape = "x".join(map(str, cls.image_shape))
        bgr = " BGR" if getattr(cls, "is_BGR", False) else ""
        rows.append((name, str(len(cls.layers)), entry.default_layer, f"{shape} {_range_text(cls.image_value_range)}{bgr}",
                     local_file(name, entry) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4] for row in rows]


def layer_lines(name, card=None):
    """The layers of model ``name`` (declared), and for a model file the layers its graph proposes."""
    entry = catalog.entry(name, card)
    cls = catalog.lucid_class(entry)
    lines = [f"# {name}: input {cls.input_name} {'x'.join(map(str, cls.image_shape))}, "
             f"output {entry.output_name}, default layer {entry.default_layer}"]
    kinds = {n: k for n, _, k in entry.card.layers} if entry.card is not None else {}
    for layer in cls.layers:
        kind = kinds.get(layer.name) or ("dense" if "dense" in layer.tags else "conv")
        mark = "  (default)" if layer.name == entry.default_layer else ""
        lines.append(f"{layer.name}  {layer.depth}  {kind}{mark}")
    if entry.card is not None:
        graph_def = graph.read_graphdef(entry.model_file)
        declared = {layer.name for layer in cls.layers}
        extra = [p for p in layers.propose_layers(graph_def, cls.input_name, tuple(cls.image_shape))
                 if p[0] not in declared]
        if extra:
            lines.append(f"# proposed by the graph, not in the card ({len(extra)}):")
            lines += [f"{n}  {d}  {k}" for n, d, k in extra]
    return lines


def write_proposed_card(path):
    """Write ``<path>.card.json`` proposed for the model file ``path``; UserError if one exists."""
    from inception_tools.models import convert

    target = cards.card_path_for(path)
    if os.path.exists(target):
        raise UserError(f"{target} exists; edit it, or remove it to propose a new one")
    if convert.is_convertible(path):
        _, card = convert.freeze(path)
    else:
        card = layers.propose_card(graph.read_graphdef(path), source=path)
    return cards.write_card(card, target)
