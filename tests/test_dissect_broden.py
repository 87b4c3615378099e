"""The Broden-layout loader on a small fixture in Broden's layout, and its one-line refusals."""

import numpy as np
import pytest

from inception_tools.dissect.broden import BrodenConcepts, decode_mask, nearest, primary_category
from inception_tools.errors import UserError
from broden_fixture import encode, write_broden


@pytest.fixture
def broden(tmp_path):
    return write_broden(tmp_path / "broden")


def test_mask_colours_decode_to_label_numbers(tmp_path):
    from PIL import Image

    labels = np.array([[0, 1, 255], [256, 257, 1197]])
    Image.fromarray(encode(labels)).save(tmp_path / "m.png")
    assert decode_mask(tmp_path / "m.png").tolist() == labels.tolist()


def test_primary_category_is_the_most_frequent():
    assert primary_category("object(17);part(2)") == "object"
    assert primary_category("object(1);part(3)") == "part"
    assert primary_category("color") == "color"


def test_nearest_resize_keeps_blocks():
    labels = np.arange(16).reshape(4, 4)
    assert nearest(labels, 8)[::2, ::2].tolist() == labels.tolist()
    assert nearest(labels, 2).tolist() == [[5, 7], [13, 15]]


def test_loader_reads_concepts_images_and_masks(broden):
    source = BrodenConcepts(broden["folder"], (32, 32, 3))
    assert len(source) == 4
    assert source.names == ["red-c", "blue-c", "square", "disk", "lab-s"]
    assert source.categories == ["color", "color", "object", "part", "scene"]
    images = source.images(0, 4)
    assert images.shape == (4, 32, 32, 3) and images.dtype == np.float32
    masks = source.masks(0, 4, np.zeros((4, 16, 16, 3)))
    assert masks.shape == (4, 16, 16, 5)
    for i, (top, left, side) in enumerate(broden["squares"]):
        square = np.zeros((16, 16), bool)
        square[top:top + side, left:left + side] = True
        assert np.array_equal(masks[i, ..., 0], square)              # red = the square
        assert np.array_equal(masks[i, ..., 1], ~square)             # blue = the rest
        assert np.array_equal(masks[i, ..., 2], square)              # object 'square'
        assert masks[i, :2, :2, 3].all() == (i % 2 == 0) and masks[i, ..., 3].sum() == (4 if i % 2 == 0 else 0)
        assert masks[i, ..., 4].all() == (i < 2) and masks[i, ..., 4].any() == (i < 2)  # scene: whole image
    # red pixels of the image sit where the red mask is
    assert images[0, 2 * 1 + 1, 2 * 1 + 1, 0] > 0.7 and images[0, 31, 31, 2] > 0.6


def test_masks_are_resized_by_nearest_neighbour(broden):
    source = BrodenConcepts(broden["folder"], (32, 32, 3), limit=1)
    half = source.masks(0, 1, np.zeros((1, 8, 8, 3)))
    full = source.masks(0, 1, np.zeros((1, 16, 16, 3)))
    assert len(source) == 1 and np.array_equal(half[0], full[0, 1::2, 1::2])  # pixel centres


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "index.csv").unlink(), "not a Broden-layout concept folder: index.csv is missing"),
    (lambda f: (f / "label.csv").unlink(), "label.csv is missing"),
    (lambda f: (f / "label.csv").write_text("id,title\n1,x\n"), "label.csv lacks column"),
    (lambda f: (f / "index.csv").write_text("image,split\ntoy/img00.jpg,train\n"), "no category columns"),
    (lambda f: (f / "images" / "toy" / "img01_color.png").unlink(), "images/toy/img01_color.png listed"),
    (lambda f: (f / "index.csv").write_text("picture,color\nx.jpg,\n"), "index.csv lacks column"),
])
def test_a_folder_not_in_broden_layout_is_refused_in_one_line(broden, damage, message):
    damage(broden["folder"])
    with pytest.raises(UserError, match=message) as caught:
        BrodenConcepts(broden["folder"], (32, 32, 3))
    assert "\n" not in str(caught.value)


def test_an_unknown_label_in_a_mask_is_refused(broden):
    from PIL import Image

    Image.fromarray(encode(np.full((16, 16), 9))).save(broden["folder"] / "images" / "toy" / "img00_object.png")
    source = BrodenConcepts(broden["folder"], (32, 32, 3))
    with pytest.raises(UserError, match="label 9 in toy/img00_object.png is not in label.csv"):
        source.masks(0, 1, np.zeros((1, 16, 16, 3)))
