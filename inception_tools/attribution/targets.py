"""Which class each image's map explains: ``top`` (the model's highest real logit), an index, an id or a name.

A name matches a label name whole (``"tiger cat"``, ``"kit fox, Vulpes
macrotis"``) or any one of its comma-separated synonyms (``"kit fox"``),
case-insensitively; a label id is the WordNet id (``n02123159``) or the
digit of the embedded model. Outputs that are no class (InceptionV1's
``dummy`` index 0 and unused tail) are never chosen.
"""

from __future__ import annotations

import numpy as np

from inception_tools.data.dataset import is_placeholder
from inception_tools.errors import UserError

TOP = "top"


def real_classes(model) -> list:
    """Output indices that are classes."""
    return [i for i, label_id in enumerate(model.label_ids) if not is_placeholder(label_id)]


def class_index(spec: str, model) -> int:
    """The output index of the class ``spec`` (an index, a label id or a name); UserError if none."""
    spec = str(spec).strip()
    real = real_classes(model)
    if spec.isdigit() and int(spec) in real and spec not in model.label_ids:
        return int(spec)
    wanted = spec.lower()
    for i in real:
        names = [model.label_ids[i], model.label_names[i], *model.label_names[i].split(",")]
        if wanted in (n.strip().lower() for n in names):
            return i
    raise UserError(f"unknown class {spec!r} for {model.name}: give an output index, a label id or a label name "
                    "(e.g. 'tiger cat'), or top")


def check_class(spec: str, model) -> None:
    """Refuse a class spec that is neither ``top`` nor a class of ``model`` (UserError)."""
    if spec != TOP:
        class_index(spec, model)


def resolve(spec: str, model, logits: np.ndarray) -> np.ndarray:
    """int64 [N]: the class of each image; ``logits`` [N, classes] decide ``top``."""
    if spec == TOP:
        real = np.array(real_classes(model))
        return real[np.argmax(np.asarray(logits)[:, real], axis=1)].astype(np.int64)
    return np.full(len(logits), class_index(spec, model), np.int64)
