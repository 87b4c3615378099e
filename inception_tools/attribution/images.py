"""One image file as a dataset of one, at the model's input size.

``resize``: ``center-crop`` (as the photo datasets: shorter side to 256/224 of
the input, central window) or ``squash`` (the whole image bilinearly to the
input size, aspect ratio not kept: nothing is cut off, so both animals of a
wide photo stay in view).
"""

from __future__ import annotations

import os

from inception_tools.data.dataset import Dataset
from inception_tools.data.folder import read_image
from inception_tools.errors import UserError

RESIZES = ("center-crop", "squash")


def image_dataset(path: str, model, resize: str = "center-crop") -> Dataset:
    """A :class:`~inception_tools.data.dataset.Dataset` holding the image file ``path`` (label unknown: -1).

    Args:
        path: an image file PIL can read.
        model: the model whose input size is used.
        resize: ``center-crop`` or ``squash``.

    Returns:
        A dataset of one image whose id is the file's name.
    """
    if resize not in RESIZES:
        raise UserError(f"unknown resize {resize!r} for an image; choose one of {', '.join(RESIZES)}")
    pixels = read_image(path, model.image_shape, resize)
    return Dataset(pixels[None], [-1], [os.path.basename(path)], resize=resize, image_shape=model.image_shape,
                   source=path)
