"""Which models the toolkit knows by name, described by Lucid's own model classes.

Each entry names a ``lucid.modelzoo`` model class (declarative: file, input,
value range, layers) plus the few facts Lucid does not record: the output node,
the default top-k of the importance score, and where the label file is.
InceptionV1 and its zoo siblings come straight from Lucid; the embedded
default model and the embedded MLP are Lucid model classes of ours
(``models/embedded.py``, ``models/mlp.py``).
"""

import dataclasses
import importlib
import os

from inception_tools.lucid_compat import import_lucid


@dataclasses.dataclass(frozen=True)
class Entry:
    lucid_class: str  # "module:Class" of a lucid.modelzoo Model class
    output_name: str = "softmax2"
    default_top_k: int = 10
    path_env: str = ""
    label_file: str = "synsets.txt"  # looked for beside the model file
    diversity_weight: float = 1e2  # Lucid visualizations; see visualization.model_diversity_weight


LUCID_ZOO = "lucid.modelzoo.vision_models"
ENTRIES = {
    "InceptionV1": Entry(f"{LUCID_ZOO}:InceptionV1", path_env="INCEPTION_TOOLS_INCEPTIONV1"),
    "InceptionV1_adv_finetuned": Entry(f"{LUCID_ZOO}:InceptionV1_adv_finetuned"),
    "embedded": Entry("inception_tools.models.embedded:EmbeddedInception", default_top_k=1,
                      label_file="labels.txt", diversity_weight=1.0),
    "embedded-mlp": Entry("inception_tools.models.mlp:EmbeddedMLP", default_top_k=1,
                          label_file="labels.txt", diversity_weight=1.0),
}


def entry(name):
    from inception_tools.errors import UserError

    if name not in ENTRIES:
        raise UserError(f"unknown model {name!r}; known models: {', '.join(ENTRIES)}")
    return ENTRIES[name]


def lucid_class(entry):
    import_lucid()
    module, _, name = entry.lucid_class.partition(":")
    return getattr(importlib.import_module(module), name)


def env_path(entry):
    return os.environ.get(entry.path_env) if entry.path_env else None
