"""Which models the toolkit knows by name, described by Lucid's own model classes.

Each entry names a ``lucid.modelzoo`` model class (declarative: file, input,
value range, layers) plus the few facts Lucid does not record: the output node,
the default top-k of the importance score, and where the label file is.
InceptionV1 and its zoo siblings come straight from Lucid; the embedded
default model is a Lucid model class of ours (``models/embedded.py``).
"""

import dataclasses
import os

from inception_tools.lucid_compat import import_lucid


@dataclasses.dataclass(frozen=True)
class Entry:
    lucid_class_name: str
    output_name: str = "softmax2"
    default_top_k: int = 10
    path_env: str = ""
    label_file: str = "synsets.txt"  # looked for beside the model file
    diversity_weight: float = 1e2  # Lucid visualizations; see visualization.model_diversity_weight


ENTRIES = {
    "InceptionV1": Entry("InceptionV1", path_env="INCEPTION_TOOLS_INCEPTIONV1"),
    "InceptionV1_adv_finetuned": Entry("InceptionV1_adv_finetuned"),
    "embedded": Entry("EmbeddedInception", default_top_k=1, label_file="labels.txt", diversity_weight=1.0),
}


def entry(name):
    from inception_tools.errors import UserError

    if name not in ENTRIES:
        raise UserError(f"unknown model {name!r}; known models: {', '.join(ENTRIES)}")
    return ENTRIES[name]


def lucid_class(entry):
    import_lucid()
    if entry.lucid_class_name == "EmbeddedInception":
        from inception_tools.models.embedded import EmbeddedInception

        return EmbeddedInception
    import lucid.modelzoo.vision_models as vision_models

    return getattr(vision_models, entry.lucid_class_name)


def env_path(entry):
    return os.environ.get(entry.path_env) if entry.path_env else None
