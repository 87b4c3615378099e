"""Decoding photographs into the uint8 pixels a dataset keeps, one file or many files on a pool of threads.

:func:`decode_rgb` decodes every pixel of a file (a truncated JPEG fails here)
and makes it RGB (grayscale, palette, RGBA and CMYK alike; alpha is dropped;
16-bit and float images scaled, see :func:`to_8bit`). :class:`Decoder` runs
:func:`decode_rgb` and :func:`inception_tools.data.resize.prepare` for many
files at once on a thread pool: PIL releases the GIL while it decodes and
resizes, so the threads run in parallel. Results come back in the files' order.
"""

import concurrent.futures
import threading

import numpy as np
from PIL import Image

from inception_tools.data import resize as resizing

WIDE_MODES = ("I", "F")  # PIL modes of 32-bit integer and float single-channel images

# What PIL raises for a file it cannot decode (UnidentifiedImageError is an OSError).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


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


def decode_prepared(path, mode, image_shape, name):
    """``(uint8 [h, w, 3], cut)`` of the file at ``path`` resized with ``mode``, or ``(None, False)`` when it
    cannot be decoded; ``cut``: only its central part is used (see :func:`~.resize.too_elongated`)."""
    try:
        image = decode_rgb(path)
    except DECODE_ERRORS:
        return None, False
    cut = mode == "center-crop" and resizing.too_elongated(image.size)
    return resizing.prepare(image, mode, image_shape, name=name), cut


class Decoder:
    """Files of one folder decoded and resized on ``workers`` threads (started on first use)."""

    def __init__(self, folder, mode, image_shape, workers):
        self.folder = folder
        self.mode = mode
        self.image_shape = tuple(image_shape)
        self.workers = workers
        self._pool = None
        self._lock = threading.Lock()

    def map(self, function, items):
        """``function(item)`` for each of ``items``, in their order, on the threads."""
        if self.workers == 1 or len(items) == 1:
            return [function(item) for item in items]
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="decode")
        return list(self._pool.map(function, items))

    def decode(self, paths):
        """``[(pixels or None, cut)]`` for the relative ``paths``, in their order."""
        return self.map(lambda path: decode_prepared(self.folder / path, self.mode, self.image_shape,
                                                     path.as_posix()), paths)

    def close(self):
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
