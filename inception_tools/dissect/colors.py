"""Broden's 11 colour concepts computed from any photo's pixels.

Broden labels every pixel with one of the 11 basic colour terms of Berlin
and Kay (black, blue, brown, grey, green, orange, pink, purple, red, white,
yellow). Broden took them from van de Weijer et al.'s learned colour names,
whose lookup table no installed library ships, so here each pixel gets the
name of the **nearest of 11 prototype colours in CIELAB** (Euclidean
distance, CIE76 Delta E). CIELAB is close to perceptually uniform, so
"nearest" means "looks most alike"; lightness separates black, grey and white
and the chroma plane the hues. The prototypes are typical (focal) sRGB
colours of each term, listed in :data:`PROTOTYPES`; the conversion is the
standard sRGB (D65) to CIELAB one. A pixel is named at the resolution the
masks are compared at, after area-averaging the model's input image down to
it. This is a simpler rule than van de Weijer's: brownish greys and dark
saturated colours are the usual disagreements.
"""

from __future__ import annotations

import numpy as np

from inception_tools.runner import data_digest

CATEGORY = "color"

# name -> focal sRGB colour (0-255)
PROTOTYPES = {
    "black": (0, 0, 0),
    "blue": (30, 70, 200),
    "brown": (120, 70, 30),
    "grey": (128, 128, 128),
    "green": (40, 150, 40),
    "orange": (250, 140, 10),
    "pink": (250, 160, 190),
    "purple": (120, 40, 150),
    "red": (210, 20, 30),
    "white": (255, 255, 255),
    "yellow": (250, 230, 20),
}
NAMES = tuple(PROTOTYPES)

_D65 = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])


def rgb_to_lab(rgb):
    """sRGB in [0, 1] (any shape [..., 3]) to CIELAB (D65): L in [0, 100], a and b roughly [-128, 127]."""
    rgb = np.clip(np.asarray(rgb, np.float64), 0.0, 1.0)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _D65
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


_PROTOTYPES_LAB = rgb_to_lab(np.array(list(PROTOTYPES.values())) / 255.0)


def color_names(images):
    """The colour name index (into :data:`NAMES`) of each pixel of float [..., 3] images in [0, 1]."""
    lab = rgb_to_lab(images)
    # |x - p|^2 = |x|^2 - 2 x.p + |p|^2, and |x|^2 is the same for every prototype
    distance = (_PROTOTYPES_LAB ** 2).sum(axis=-1) - 2 * lab @ _PROTOTYPES_LAB.T
    return distance.argmin(axis=-1)


class ColorConcepts:
    """A dataset's images with the 11 colour concepts of their pixels.

    Args:
        dataset: an :class:`inception_tools.data.dataset.Dataset` (its images at the model's input size).
    """

    kind = "colors"
    files = ()  # files it reads (none besides the dataset's images)

    def __init__(self, dataset):
        self.dataset = dataset
        self.names = list(NAMES)
        self.categories = [CATEGORY] * len(NAMES)
        self.ids = list(dataset.ids)

    def __len__(self):
        return len(self.dataset)

    def identity(self) -> dict:
        """What identifies these concepts in a settings manifest."""
        return {"concepts": self.kind, "n_images": len(self.dataset), "data": data_digest(self.dataset)}

    def images(self, start, stop):
        """float32 [n, H, W, 3] in [0, 1] at the model's input size."""
        return self.dataset.images(start, stop)

    def masks(self, start, stop, small):
        """bool [n, R, R, 11]: each pixel of ``small`` (the images area-averaged to R x R) has one name."""
        return color_names(small)[..., None] == np.arange(len(NAMES))
