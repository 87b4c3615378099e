"""The labelled image set that every reader returns, and the label checks they share.

A :class:`Dataset` keeps its images as one uint8 array [N, h, w, 3] (N*h*w*3
bytes: h x w is the model's input size for "center-crop" and "native", 64 x 64
for "64-upscale"), or as anything indexed like one (a photo folder streamed or
cached: :mod:`~inception_tools.data.reading`), and hands out float32 slices in [0, 1] at the model's input
size on request (see :mod:`inception_tools.data.resize`). Labels are model
output indices, found by exact match of each image's label id (a WordNet id,
or a digit) in ``model.label_ids``; nothing is matched by name.
"""

import copy

import numpy as np

from inception_tools import progress
from inception_tools.data import resize as resizing
from inception_tools.errors import UserError

# How models mark outputs that are no class: "dummy" (InceptionV1's index 0) and
# "unused-<index>" (its outputs 1001..1007).
DUMMY_LABEL_ID = "dummy"
UNUSED_PREFIX = "unused-"


class Dataset:
    """Images with their true class: ``len()``, ``labels``, ``ids``, ``resize``, ``skipped``.

    ``images(start, stop)`` returns float32 [n, H, W, 3] in [0, 1]; scaling to
    the model's value range is left to Lucid's ``create_input``.
    """

    def __init__(self, stored, labels, ids, resize, image_shape, skipped=0, source=""):
        if not len(stored):
            raise UserError(f"no images in {source}")
        self.stored = stored
        self.labels = np.asarray(labels, dtype=np.int64)
        self.ids = list(ids)
        self._all_labels, self._all_ids = self.labels, self.ids
        self.resize = resize
        self.image_shape = tuple(image_shape)
        self.skipped = skipped
        self.source = str(source)
        self.order = np.arange(len(stored))  # position of each image in the dataset as loaded
        self._in_order = True

    def __len__(self):
        return len(self.order)

    def images(self, start=0, stop=None):
        """float32 [n, H, W, 3] in [0, 1] for images ``start:stop``.

        Pixels that are decoded when read (:mod:`~inception_tools.data.stream`) have the batch of the same
        size that follows decoded in the background meanwhile.
        """
        stop = len(self) if stop is None else min(stop, len(self))
        pixels = self.stored[start:stop] if self._in_order else self.stored[self.order[start:stop]]
        if hasattr(self.stored, "prefetch") and stop - start > 1 and stop < len(self):
            self.stored.prefetch(self.order[stop:stop + (stop - start)])
        return resizing.finish(pixels, self.image_shape)

    def reordered(self, order):
        """The images at ``order`` (indices into this dataset: a permutation or a subset), sharing the pixels."""
        order = self.order[np.asarray(order, np.int64)]
        view = copy.copy(self)
        view.order = order
        view._in_order = bool(np.array_equal(order, np.arange(len(self.stored))))
        view.labels = self._all_labels[order]
        view.ids = [self._all_ids[i] for i in order]
        return view

    def batches(self, batch_size, desc=None):
        """Yield ``(start, images)`` for consecutive batches; with ``desc``, a progress bar on stderr."""
        if batch_size < 1:
            raise UserError(f"batch size must be at least 1, got {batch_size}")
        with progress.bar(total=len(self), desc=desc, unit="img", disable=desc is None) as bar:
            for start in range(0, len(self), batch_size):
                batch = self.images(start, start + batch_size)
                yield start, batch
                bar.update(len(batch))


class Rows:
    """The rows ``rows`` of an array-like of pixels, read only when asked (a subset of a cache entry)."""

    def __init__(self, pixels, rows):
        self.pixels = pixels
        self.rows = np.asarray(rows, np.int64)
        self.shape = (len(self.rows), *pixels.shape[1:])
        self.dtype = pixels.dtype

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        return self.pixels[self.rows[key]]


def batch_ranges(start, n_images, batch_size):
    """``(b0, b1)`` of the consecutive batches of ``batch_size`` from image ``start`` to ``n_images``."""
    return [(b0, min(b0 + batch_size, n_images)) for b0 in range(start, n_images, batch_size)]


def is_placeholder(label_id):
    """True for the label id of an output that stands for no class."""
    return label_id in (DUMMY_LABEL_ID, "") or label_id.startswith(UNUSED_PREFIX)


def label_index(model):
    """Dict label id -> output index for every real class of ``model``."""
    return {label_id: index for index, label_id in enumerate(model.label_ids) if not is_placeholder(label_id)}


def label_mismatch(model, unknown):
    """UserError for label ids the model does not know; ``unknown`` maps each to an example."""
    shown = ", ".join(f"{label_id!r} ({example})" for label_id, example in list(unknown.items())[:5])
    more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    return UserError(f"label mismatch: not a class of model {model.name}: {shown}{more}")


def balanced_order(labels):
    """Positions of ``labels`` taken round-robin over the classes: the first image of each class (in
    dataset order), then the second of each, ... A limit of N keeps the first N of this order, so a
    class-sorted set (the embedded digits, a folder sorted by WordNet id) limited to N still holds
    every class about equally, and a set already in mixed order keeps a balanced share of each."""
    labels = np.asarray(labels)
    rank = np.zeros(len(labels), np.int64)
    seen = {}
    for i, label in enumerate(labels.tolist()):
        rank[i] = seen.get(label, 0)
        seen[label] = rank[i] + 1
    return np.lexsort((np.arange(len(labels)), rank))


def limited(labels, limit):
    """Sorted positions of the ``limit`` images a limit keeps (see :func:`balanced_order`); all when None."""
    if limit is None or limit >= len(labels):
        return np.arange(len(labels))
    return np.sort(balanced_order(labels)[:limit])


SUBSET = "class-balanced: round-robin over the classes in dataset order"


def check_limit(limit):
    """Raise UserError unless ``limit`` is None or a positive integer."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
        raise UserError(f"limit must be a positive number of images, got {limit!r}")
