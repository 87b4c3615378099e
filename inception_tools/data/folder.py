"""Read a folder of labelled photographs into a :class:`Dataset`.

Two layouts, which may be mixed:

- flat: ``<folder>/<wnid>_<anything>.<ext>`` -- the label id is the file name
  up to its first ``_`` (e.g. ``n01440764_tench.JPEG``);
- ILSVRC: ``<folder>/<wnid>/<anything>.<ext>`` (any depth below) -- the label
  id is the name of the top sub-folder.

The label id must equal one of ``model.label_ids`` exactly; any that does not
is a "label mismatch" UserError, raised before anything is decoded. Files are
taken in sorted path order; ``limit`` keeps ``limit`` readable ones, class-balanced
(:func:`~inception_tools.data.dataset.balanced_order`), in path order.
Hidden files and files without an image extension are ignored.

Every image is fully decoded at load time (a truncated JPEG fails here), made
RGB (grayscale, palette, RGBA and CMYK alike; alpha is dropped) and passed
through :func:`inception_tools.data.resize.prepare`; files that cannot be
decoded are skipped, counted in ``Dataset.skipped`` and reported in one line
on stderr. Memory: N*h*w*3 bytes (see :mod:`inception_tools.data.dataset`).
"""

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from inception_tools import progress
from inception_tools.data import resize as resizing
from inception_tools.data.dataset import Dataset, balanced_order, label_index, label_mismatch
from inception_tools.errors import UserError

WIDE_MODES = ("I", "F")  # PIL modes of 32-bit integer and float single-channel images
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")

# What PIL raises for a file it cannot decode (UnidentifiedImageError is an OSError).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)

# How many unreadable file names the warning line shows.
SHOWN_SKIPPED = 3
log = logging.getLogger(__name__)


def image_files(folder):
    """Relative paths of the image files under ``folder``, sorted."""
    return sorted(
        path.relative_to(folder)
        for path in folder.rglob("*")
        if path.suffix.lower() in IMAGE_EXTENSIONS
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and path.is_file()
    )


def label_id(relative_path):
    """The label id of a file: its top sub-folder, or its name up to the first ``_`` (or extension)."""
    if len(relative_path.parts) > 1:
        return relative_path.parts[0]
    return relative_path.stem.split("_", 1)[0]


def labels_of(files, model):
    """Output index of each file's label id; UserError naming the ids the model lacks."""
    index = label_index(model)
    unknown = {}
    for path in files:
        if label_id(path) not in index:
            unknown.setdefault(label_id(path), path.as_posix())
    if unknown:
        raise label_mismatch(model, unknown)
    return [index[label_id(path)] for path in files]


def decode_rgb(path):
    """Decode every pixel of the image file at ``path`` into an RGB PIL image (see :func:`to_8bit`)."""
    with Image.open(path) as image:
        image.load()
        if image.mode in WIDE_MODES or image.mode.startswith("I;16"):
            return Image.fromarray(to_8bit(np.asarray(image), image.mode), "L").convert("RGB")
        return image.convert("RGB")


def to_8bit(pixels, mode):
    """uint8 grey levels of a 16-bit, 32-bit integer or float single-channel image, scaled, not clipped.

    PIL's ``convert("RGB")`` clips such images at 255, so a 16-bit grey PNG arrived nearly white.
    16-bit: value / 257 (65535 -> 255). 32-bit integer (``I``): as 16-bit when every value fits in
    0..65535, as it is when in 0..255. Float (``F``): values in [0, 1] are scaled by 255, in [0, 255]
    kept. Anything else (negative or larger values) is stretched from its minimum to its maximum.
    """
    values = pixels.astype(np.float64)
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if mode.startswith("I;16") or (mode == "I" and lo >= 0 and hi <= 65535 and hi > 255):
        scaled = values / 257.0
    elif mode == "F" and lo >= 0 and hi <= 1.0:
        scaled = values * 255.0
    elif lo >= 0 and hi <= 255:
        scaled = values
    else:
        scaled = (values - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(values)
    return np.clip(np.rint(np.nan_to_num(scaled)), 0, 255).astype(np.uint8)


def read_image(path, image_shape, resize):
    """One image file as uint8 [h, w, 3] for a model of ``image_shape``; a one-line UserError if unreadable.

    ``resize``: ``squash`` resizes the whole image to the input size (bilinear, aspect ratio not kept);
    any other mode is :func:`inception_tools.data.resize.prepare`'s.
    """
    try:
        image = decode_rgb(path)
    except FileNotFoundError:
        raise UserError(f"image {path} does not exist") from None
    except DECODE_ERRORS as e:
        raise UserError(f"cannot read image {path}: {e}") from None
    if resize == "squash":
        height, width = image_shape[:2]
        return np.asarray(image.resize((width, height), Image.BILINEAR), np.uint8)
    return resizing.prepare(image, resize, image_shape, name=str(path))


def warn_skipped(skipped_files):
    """One warning naming how many files were unreadable and the first few."""
    shown = ", ".join(skipped_files[:SHOWN_SKIPPED])
    more = ", ..." if len(skipped_files) > SHOWN_SKIPPED else ""
    log.warning(f"skipped {len(skipped_files)} unreadable image file(s): {shown}{more}")


def warn_elongated(names):
    """One warning naming the images only the central part of which is used."""
    shown = ", ".join(names[:SHOWN_SKIPPED]) + (", ..." if len(names) > SHOWN_SKIPPED else "")
    log.warning(f"{len(names)} image(s) longer than {resizing.MAX_ASPECT}:1, only their central "
                f"{resizing.MAX_ASPECT}:1 part is used: {shown}")


def decode_files(folder, files, wanted, mode, image_shape):
    """Decode ``files`` in order until ``wanted`` are read: (stored uint8, kept indices, skipped names)."""
    stored = np.empty((wanted, *resizing.stored_size(mode, image_shape), 3), np.uint8)
    kept, skipped, elongated = [], [], []
    with progress.bar(total=wanted, desc=f"decoding {folder.name}", unit="img") as bar:
        for i, path in enumerate(files):
            try:
                image = decode_rgb(folder / path)
            except DECODE_ERRORS:
                skipped.append(path.as_posix())
                continue
            if mode == "center-crop" and resizing.too_elongated(image.size):
                elongated.append(path.as_posix())
            stored[len(kept)] = resizing.prepare(image, mode, image_shape, name=path.as_posix())
            kept.append(i)
            bar.update(1)
            if len(kept) == wanted:
                break
    if elongated:
        warn_elongated(elongated)
    return stored[: len(kept)], kept, skipped


def load_folder(folder, model, mode, limit=None):
    """A :class:`Dataset` of the images under ``folder``, resized with ``mode``."""
    folder = Path(folder)
    files = image_files(folder)
    if not files:
        raise UserError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in folder {folder}")
    labels = labels_of(files, model)
    wanted = min(limit or len(files), len(files))
    order = balanced_order(labels) if limit else np.arange(len(files))  # unreadable files: the next of the order
    stored, kept, skipped = decode_files(folder, [files[i] for i in order], wanted, mode, model.image_shape)
    kept = [int(order[i]) for i in kept]
    if limit:  # back to dataset order
        ranked = np.argsort(kept, kind="stable")
        stored, kept = stored[ranked], [kept[i] for i in ranked]
    if skipped:
        warn_skipped(skipped)
    if not kept:
        raise UserError(f"none of the {len(skipped)} image files in {folder} could be read")
    return Dataset(
        stored,
        [labels[i] for i in kept],
        [files[i].as_posix() for i in kept],
        resize=mode,
        image_shape=model.image_shape,
        skipped=len(skipped),
        source=folder,
    )
