"""PNG files of a study: writing image strips, reading them back safely.

Strips (visualizations, dataset examples) are float images in [0, 1] laid side
by side and written atomically. Reading refuses, in one line, any file PIL
cannot decode, including one whose header claims more pixels than PIL's
decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``, about 179 Mpx for
an error, half that for a warning).
"""

import warnings

import numpy as np
from PIL import Image

from inception_tools.atomic import atomic_path
from inception_tools.errors import UserError


def save_strip(images, path):
    """Save float [n, H, W, 3] images in [0, 1] side by side as one PNG."""
    strip = np.concatenate(list(images), axis=1)
    pixels = (np.clip(strip, 0, 1) * 255).round().astype(np.uint8)
    with atomic_path(path) as tmp:
        Image.fromarray(pixels).save(tmp, format="PNG")


def open_rgb(path):
    """Decode the image file ``path`` as RGB, or raise UserError saying why not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return image.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise UserError(f"cannot read the image {path}: {e}") from None
