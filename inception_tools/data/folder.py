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

Where the decoded pixels live is the :class:`~inception_tools.data.reading.Reading`'s
choice: in memory (N*h*w*3 bytes, every image decoded at load time on a pool
of threads), streamed (:mod:`~inception_tools.data.stream`: decoded batch by
batch, headers checked at load time) or in a cache folder
(:mod:`~inception_tools.data.cache`). Images are made RGB and passed through
:func:`inception_tools.data.resize.prepare` (:mod:`~inception_tools.data.decoding`);
files that cannot be decoded are skipped, counted in ``Dataset.skipped`` and
reported in one line on stderr.
"""

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from inception_tools import progress
from inception_tools.data import resize as resizing
from inception_tools.data.cache import cached
from inception_tools.data.dataset import Dataset, Rows, balanced_order, label_index, label_mismatch
from inception_tools.data.decoding import DECODE_ERRORS, Decoder, decode_rgb
from inception_tools.data.reading import Reading
from inception_tools.data.stream import StreamedPixels, probe
from inception_tools.errors import UserError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")

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


def decode_files(decoder, files, wanted):
    """Decode ``files`` in order until ``wanted`` are read: (stored uint8, kept indices, skipped names, cut names)."""
    stored = np.empty((wanted, *resizing.stored_size(decoder.mode, decoder.image_shape), 3), np.uint8)
    kept, skipped, cut = [], [], []
    step = 16 * decoder.workers
    with progress.bar(total=wanted, desc=f"decoding {decoder.folder.name}", unit="img") as bar:
        start = 0
        while start < len(files) and len(kept) < wanted:
            chunk = files[start:start + min(step, wanted - len(kept))]
            before = len(kept)
            for i, (pixels, elongated) in enumerate(decoder.decode(chunk), start):
                if pixels is None:
                    skipped.append(files[i].as_posix())
                    continue
                cut += [files[i].as_posix()] if elongated else []
                stored[len(kept)] = pixels
                kept.append(i)
            bar.update(len(kept) - before)
            start += len(chunk)
    return stored[: len(kept)], kept, skipped, cut


def chosen(order, readable, wanted):
    """The first ``wanted`` positions of ``order`` that are ``readable``, sorted (dataset order)."""
    return np.sort(np.asarray([i for i in order if readable[i]][:wanted], np.int64))


def in_memory(decoder, files, order, wanted):
    """Decode ``files`` in ``order`` until ``wanted``: (uint8 array, kept positions in dataset order, skipped, cut)."""
    stored, kept, skipped, cut = decode_files(decoder, [files[i] for i in order], wanted)
    kept = np.asarray([int(order[i]) for i in kept], np.int64)
    if np.any(np.diff(kept) < 0):  # a limit took them class by class: back to dataset order
        ranked = np.argsort(kept, kind="stable")
        stored, kept = stored[ranked], kept[ranked]
    return stored, kept, skipped, cut


def streamed(decoder, files, order, wanted):
    """Headers of ``files`` read, pixels left for later: (StreamedPixels, kept positions, skipped, cut)."""
    sizes = probe(decoder, files)
    kept = chosen(order, [size is not None for size in sizes], wanted)
    skipped = [path.as_posix() for path, size in zip(files, sizes) if size is None]
    cut = [files[i].as_posix() for i in kept if decoder.mode == "center-crop" and resizing.too_elongated(sizes[i])]
    return StreamedPixels(decoder, [files[i] for i in kept]), kept, skipped, cut


def from_cache(decoder, files, order, wanted, cache_dir):
    """The cache entry of ``files`` (built first when missing): (pixels, kept positions, skipped, cut)."""
    pixels, record = cached(cache_dir, decoder, files)
    readable = np.zeros(len(files), bool)
    readable[record["kept"]] = True
    kept = chosen(order, readable, wanted)
    rows = np.searchsorted(np.asarray(record["kept"], np.int64), kept)
    chosen_names = {files[i].as_posix() for i in kept}
    cut = [name for name in record["cut"] if name in chosen_names]
    if len(rows) < len(record["kept"]):
        pixels = Rows(pixels, rows)
    return pixels, kept, record["skipped"], cut


def load_folder(folder, model, mode, limit=None, reading=None):
    """A :class:`Dataset` of the images under ``folder``, resized with ``mode``, read as ``reading`` says
    (a :class:`~inception_tools.data.reading.Reading`; default: in memory up to 1 GiB, else streamed)."""
    reading = reading or Reading()
    folder = Path(folder)
    files = image_files(folder)
    if not files:
        raise UserError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in folder {folder}")
    labels = labels_of(files, model)
    wanted = min(limit or len(files), len(files))
    order = balanced_order(labels) if limit else np.arange(len(files))  # unreadable files: the next of the order
    decoder = Decoder(folder, mode, model.image_shape, reading.threads)
    image_bytes = 3 * int(np.prod(resizing.stored_size(mode, model.image_shape)))
    if reading.cache is not None:
        stored, kept, skipped, cut = from_cache(decoder, files, order, wanted, reading.cache)
    elif reading.streams(wanted * image_bytes):
        stored, kept, skipped, cut = streamed(decoder, files, order, wanted)
    else:
        stored, kept, skipped, cut = in_memory(decoder, files, order, wanted)
        decoder.close()
    if cut:
        warn_elongated(cut)
    if skipped:
        warn_skipped(skipped)
    if not len(kept):
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
