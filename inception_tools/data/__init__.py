"""Labelled image sets for a model: ``load_dataset(source, model, resize=None, limit=None)``.

``source`` is one of

- a folder of photographs, ``<wnid>_*.JPEG`` or ``<wnid>/*.JPEG``
  (:mod:`~inception_tools.data.folder`; default resize "center-crop");
- a downsampled-ImageNet ``.npz`` (:mod:`~inception_tools.data.npz`;
  default resize "64-upscale");
- ``"embedded"``: the 1000-image test split of the embedded digits model,
  grayscale replicated to RGB, label id = the digit (default resize "native");
  ``"embedded-train"``: its 4000 training digits, the same way.

A folder's pixels are kept in memory, streamed from the files in bounded
memory, or cached once on disk (:mod:`~inception_tools.data.reading`).

The result is a :class:`~inception_tools.data.dataset.Dataset` whose
``images()`` are float32 in [0, 1] at the model's input size; the resize modes
are described in :mod:`~inception_tools.data.resize`. ``limit=N`` keeps a
class-balanced N (:func:`~inception_tools.data.dataset.balanced_order`: round-robin
over the classes in dataset order, deterministic, so no seed), kept in dataset order;
the image ids are the original positions, so the settings of every stage (the
dataset fingerprint) record exactly which images were used. Of ``model`` only
``name``, ``image_shape``, ``label_ids`` and ``num_classes`` are used.
"""

from pathlib import Path

import numpy as np

from inception_tools.data import resize as resizing
from inception_tools.data.dataset import Dataset, check_limit, label_index, label_mismatch, limited
from inception_tools.data.folder import load_folder
from inception_tools.data.npz import load_npz
from inception_tools.data.reading import Reading
from inception_tools.errors import UserError

EMBEDDED = "embedded"
EMBEDDED_SPLITS = {EMBEDDED: "test", "embedded-train": "train"}

__all__ = ["Dataset", "Reading", "load_dataset"]


def load_embedded(model, mode, limit=None, split="test"):
    """A digits split as a :class:`Dataset`, labels mapped through ``model.label_ids``."""
    from inception_tools.data.digits import load_digits

    digits, digit_labels = load_digits(split)
    keep = limited(digit_labels, limit)
    digits, digit_labels = digits[keep], digit_labels[keep]
    index = label_index(model)
    unknown = {str(d): f"digits:{i}" for i, d in enumerate(digit_labels) if str(d) not in index}
    if unknown:
        raise label_mismatch(model, unknown)
    rgb = np.repeat(digits[..., np.newaxis], 3, axis=-1)
    return Dataset(
        resizing.prepare_array(rgb, mode, model.image_shape),
        [index[str(d)] for d in digit_labels],
        [f"digits:{i}" if split == "test" else f"digits-{split}:{i}" for i in keep],
        resize=mode,
        image_shape=model.image_shape,
        source=EMBEDDED if split == "test" else f"embedded-{split}",
    )


def load_dataset(source, model, resize=None, limit=None, reading=None):
    """Load ``source`` (folder, ``.npz``, ``"embedded"`` or ``"embedded-train"``) for ``model``; see the module
    docstring. ``reading`` (a :class:`~inception_tools.data.reading.Reading`) says where a folder's decoded
    pixels live: in memory, streamed or cached (default: in memory up to 1 GiB, else streamed); the other
    sources are held in memory."""
    check_limit(limit)
    if resize is not None:
        resizing.check_mode(resize)
    if str(source) in EMBEDDED_SPLITS:
        return load_embedded(model, resize or "native", limit, EMBEDDED_SPLITS[str(source)])
    path = Path(source)
    if path.is_dir():
        return load_folder(path, model, resize or "center-crop", limit, reading)
    if path.is_file() and path.suffix.lower() == ".npz":
        return load_npz(path, model, resize or "64-upscale", limit)
    if not path.exists():
        raise UserError(f"dataset {source} does not exist (expected a folder of images, an .npz or 'embedded')")
    raise UserError(f"unsupported dataset file {source}: expected a folder of images, an .npz or 'embedded'")
