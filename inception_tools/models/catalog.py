"""Which models the toolkit knows by name, described by Lucid's own model classes.

Each entry names a ``lucid.modelzoo`` model class (declarative: file, input,
value range, layers) plus the few facts Lucid does not record: the output node,
the default top-k of the importance score, where the label file is, and the
study's defaults for the model (layer, visualization steps, group size).
InceptionV1 and its zoo siblings come straight from Lucid; the embedded
default model and the embedded MLP are Lucid model classes of ours
(``models/embedded.py``, ``models/mlp.py``).
"""

import dataclasses
import importlib
import os

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


def entry(name):
    """The catalog entry of model ``name``; UserError for a name it does not know."""
    if not isinstance(name, str) or name not in ENTRIES:
        raise UserError(f"unknown model {name!r}; known models: {', '.join(ENTRIES)}")
    return ENTRIES[name]


def lucid_class(entry):
    from inception_tools.lucid_compat import import_lucid

    import_lucid()
    module, _, name = entry.lucid_class.partition(":")
    return getattr(importlib.import_module(module), name)


def env_path(entry):
    return os.environ.get(entry.path_env) if entry.path_env else None
