"""Which models the toolkit knows by name, described by Lucid's own model classes.

Each entry names a ``lucid.modelzoo`` model class (declarative: file, input,
value range, layers) plus the few facts Lucid does not record: the output node,
the default top-k of the importance score, where the label file is, and the
study's defaults for the model (layer, visualization steps, group size).
InceptionV1 and its zoo siblings come straight from Lucid; the embedded
default model and the embedded MLP are Lucid model classes of ours
(``models/embedded.py``, ``models/mlp.py``).

Beyond :data:`ENTRIES`, :func:`entry` knows every class of
``lucid.modelzoo.vision_models`` by its name (``ResnetV2_50_slim``): the
output is the class's last ``dense`` layer, the default layer its last
convolutional layer but one, as ``mixed5a`` is InceptionV1's; and a model
file (``.pb``, ``.keras``, ``.h5`` or a SavedModel folder) described by a model
card (:mod:`.card`), Keras and SavedModel frozen once by :mod:`.convert`.
"""

import dataclasses
import difflib
import functools
import importlib
import os
from typing import Optional

from inception_tools.errors import UserError


@dataclasses.dataclass(frozen=True)
class Entry:
    lucid_class: str  # "module:Class" of a lucid.modelzoo Model class
    output_name: str = "softmax2"
    default_top_k: int = 10
    path_env: str = ""
    label_file: str = "synsets.txt"  # looked for beside the model file
    diversity_weight: float = 1e2  # Lucid visualizations; see visualization.model_diversity_weight
    default_layer: str = "mixed5a"  # the layer a study looks at: the last mixed layer but one
    blocks_layers: str = "mixed4d"  # the layers of a Building Blocks page
    steps: int = 512  # optimization steps of a study's visualizations (Lucid's default)
    group_size: int = 40  # the study's top and middle groups, at most a quarter of the channels each
    default_data: str = ""  # the dataset a command uses without --data ("" = none, --data required)
    card: Optional[object] = None  # a model file's card (models/card.py); then lucid_class is ""
    model_file: str = ""  # the frozen GraphDef of a model file (Keras and SavedModel: the cached conversion)

    def group_size_for(self, depth):
        """The default group size for a layer of ``depth`` channels."""
        return max(1, min(self.group_size, depth // 4))


LUCID_ZOO = "lucid.modelzoo.vision_models"
ENTRIES = {
    "InceptionV1": Entry(f"{LUCID_ZOO}:InceptionV1", path_env="INCEPTION_TOOLS_INCEPTIONV1"),
    "InceptionV1_adv_finetuned": Entry(f"{LUCID_ZOO}:InceptionV1_adv_finetuned"),
    "embedded": Entry("inception_tools.models.embedded:EmbeddedInception", default_top_k=1,
                      label_file="labels.txt", diversity_weight=1.0, default_layer="mixed3a",
                      blocks_layers="mixed3a", steps=256, default_data="embedded"),
    "embedded-mlp": Entry("inception_tools.models.mlp:EmbeddedMLP", default_top_k=1, label_file="labels.txt",
                          diversity_weight=1.0, default_layer="dense2", blocks_layers="dense2", steps=256,
                          default_data="embedded"),
}


MODEL_FILE_SUFFIXES = (".pb", ".keras", ".h5", ".hdf5")


def is_model_file(name):
    """True when ``name`` names a model file or folder rather than a catalog or zoo name."""
    name = os.fspath(name)
    return os.path.exists(name) or name.lower().endswith(MODEL_FILE_SUFFIXES) or os.sep in name


def entry(name, card=None):
    """The catalog entry of model ``name``: a catalog name, a Lucid zoo class name or a model file.

    Args:
        name: ``embedded``, ``InceptionV1``, ``ResnetV2_50_slim``, ... or the path of a model file.
        card: a model card file for a model file (default: ``<file>.card.json`` beside it).

    Returns:
        An :class:`Entry`; UserError for a name it does not know (naming the close ones).
    """
    if not isinstance(name, (str, os.PathLike)):
        raise UserError(f"unknown model {name!r}; known models: {', '.join(ENTRIES)}")
    name = os.fspath(name)
    if name in ENTRIES and not card:  # a catalog name wins over a file of that name in the working folder
        return ENTRIES[name]
    if is_model_file(name):
        return file_entry(name, os.fspath(card) if card else None)
    if card:
        raise UserError(f"a model card describes a model file, not the named model {name!r}")
    zoo = zoo_names()
    if name in zoo:
        return zoo_entry(name)
    close = difflib.get_close_matches(name, list(ENTRIES) + zoo, n=4, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known models: {', '.join(ENTRIES)} and Lucid's zoo"
    raise UserError(f"unknown model {name!r}{hint} (the models command lists them all)")


def zoo_module():
    from inception_tools.lucid_compat import import_lucid

    import_lucid()
    return importlib.import_module(LUCID_ZOO)


def zoo_names():
    """The model classes of ``lucid.modelzoo.vision_models``, by name."""
    module = zoo_module()
    return [name for name in module.__all__ if name not in ("Model", "Layer")]


@functools.lru_cache(maxsize=None)
def zoo_entry(name):
    """The entry of Lucid zoo class ``name``: output, default layer and top-k from the class's layers."""
    cls = getattr(zoo_module(), name)
    layers = list(getattr(cls, "layers", None) or [])
    if not layers:
        raise UserError(f"{name} declares no layers in Lucid's zoo: not a classifier the toolkit can study")
    dense = [layer.name for layer in layers if "dense" in layer.tags]
    convs = [layer.name for layer in layers if "dense" not in layer.tags]
    default = convs[-2] if len(convs) > 1 else convs[0] if convs else dense[-1]
    return Entry(f"{LUCID_ZOO}:{name}", output_name=(dense or [layers[-1].name])[-1], default_top_k=5,
                 label_file="", default_layer=default, blocks_layers=default)


def file_entry(path, card=None):
    """The entry of a model file (``.pb``, Keras file or SavedModel folder) and its card."""
    stat = os.stat(path) if os.path.exists(path) else None
    card_stat = os.stat(card) if card and os.path.exists(card) else None
    return _file_entry(os.path.abspath(path), card and os.path.abspath(card),
                       stat and (stat.st_mtime_ns, stat.st_size), card_stat and (card_stat.st_mtime_ns,))


@functools.lru_cache(maxsize=32)
def _file_entry(path, card_file, _stamp, _card_stamp):
    from inception_tools.models import card as cards
    from inception_tools.models import convert

    beside = cards.card_path_for(path)
    chosen = card_file or (beside if os.path.isfile(beside) else None)
    if convert.is_convertible(path):
        model_file, written = convert.freeze(path)
        card = cards.read_card(chosen) if chosen else written
    elif os.path.isfile(path):
        model_file = path
        if not chosen:
            raise UserError(f"no model card for {path}: expected {beside} "
                            "(the models command proposes one from the graph)")
        card = cards.read_card(chosen)
    else:
        raise UserError(f"model file not found: {path}" if not os.path.exists(path) else
                        f"{path} is neither a frozen .pb, a Keras file nor a SavedModel folder")
    return Entry("", output_name=card.output_name, default_top_k=card.default_top_k, label_file="",
                 default_layer=card.default_layer, blocks_layers=card.default_layer, card=card,
                 model_file=model_file)


def lucid_class(entry):
    if entry.card is not None:
        return entry.card.lucid_class(entry.model_file)
    from inception_tools.lucid_compat import import_lucid

    import_lucid()
    module, _, name = entry.lucid_class.partition(":")
    return getattr(importlib.import_module(module), name)


def env_path(entry):
    return os.environ.get(entry.path_env) if entry.path_env else None
