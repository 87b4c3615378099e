"""One image file as a dataset of one, at the model's input size.

``resize``: ``center-crop`` (as the photo datasets: shorter side to 256/224 of
the input, central window) or ``squash`` (the whole image bilinearly to the
input size, aspect ratio not kept: nothing is cut off, so both animals of a
wide photo stay in view).
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from inception_tools.data import resize as resizing
from inception_tools.data.dataset import Dataset
from inception_tools.data.folder import DECODE_ERRORS, decode_rgb
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
    try:
        image = decode_rgb(path)
    except FileNotFoundError:
        raise UserError(f"image {path} does not exist") from None
    except DECODE_ERRORS as e:
        raise UserError(f"cannot read image {path}: {e}") from None
    height, width = model.image_shape[:2]
    if resize == "squash":
        pixels = np.asarray(image.resize((width, height), Image.BILINEAR), np.uint8)
    else:
        pixels = resizing.prepare(image, resize, model.image_shape, name=str(path))
    return Dataset(pixels[None], [-1], [os.path.basename(path)], resize=resize, image_shape=model.image_shape,
                   source=path)
