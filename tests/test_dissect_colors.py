"""Colour naming: CIELAB conversion and the 11 names on pure patches."""

import numpy as np
import pytest

from inception_tools.dissect.colors import NAMES, PROTOTYPES, ColorConcepts, color_names, rgb_to_lab

PATCHES = {  # sRGB 0-255 -> the name a person gives it
    "black": [(0, 0, 0), (20, 20, 25)],
    "blue": [(0, 0, 255), (0, 0, 128), (30, 60, 180)],
    "brown": [(139, 69, 19), (160, 82, 45), (101, 67, 33)],
    "grey": [(128, 128, 128), (90, 90, 90)],
    "green": [(0, 255, 0), (0, 128, 0), (34, 139, 34)],
    "orange": [(255, 165, 0), (255, 140, 0)],
    "pink": [(255, 192, 203), (255, 105, 180)],
    "purple": [(128, 0, 128), (238, 130, 238), (255, 0, 255)],
    "red": [(255, 0, 0), (178, 34, 34), (128, 0, 0)],
    "white": [(255, 255, 255), (245, 245, 240)],
    "yellow": [(255, 255, 0), (255, 215, 0)],
}


def test_lab_of_known_colours():
    lab = rgb_to_lab(np.array([[1, 1, 1], [0, 0, 0], [1, 0, 0]], float))
    assert np.allclose(lab[0], [100, 0, 0], atol=0.01)
    assert np.allclose(lab[1], [0, 0, 0], atol=0.01)
    assert np.allclose(lab[2], [53.24, 80.09, 67.20], atol=0.05)  # the textbook sRGB red


def test_lab_agrees_with_scikit_image():
    skimage_color = pytest.importorskip("skimage.color")
    rgb = np.random.default_rng(0).random((500, 3))
    assert np.abs(rgb_to_lab(rgb) - skimage_color.rgb2lab(rgb)).max() < 0.01


@pytest.mark.parametrize("name", NAMES)
def test_pure_patches_get_their_name(name):
    for rgb in PATCHES[name] + [PROTOTYPES[name]]:
        patch = np.full((4, 5, 3), np.array(rgb) / 255.0)
        found = color_names(patch)
        assert found.shape == (4, 5)
        assert {NAMES[i] for i in found.ravel()} == {name}, rgb


def test_concept_masks_give_every_pixel_one_name():
    class Photos:
        ids = ["a", "b"]
        labels = np.zeros(2, np.int64)
        resize = "native"

        def __len__(self):
            return 2

    small = np.zeros((2, 3, 3, 3))
    small[0, 0, 0] = [1, 0, 0]
    small[1] = [1, 1, 1]
    masks = ColorConcepts(Photos()).masks(0, 2, small)
    assert masks.shape == (2, 3, 3, 11) and (masks.sum(axis=-1) == 1).all()
    assert masks[0, 0, 0, NAMES.index("red")] and masks[0, 1:, :, NAMES.index("black")].all()
    assert masks[1, ..., NAMES.index("white")].all()
