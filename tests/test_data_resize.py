"""The two resize modes against hand computations on small images."""

import types

import numpy as np
import pytest
from PIL import Image

from inception_tools.data import load_dataset, resize
from inception_tools.errors import UserError


def model_of_size(side):
    return types.SimpleNamespace(name="Tiny", image_shape=(side, side, 3), label_ids=["dummy", "n1"], num_classes=2)


def save_rgb(folder, pixels):
    Image.fromarray(pixels).save(folder / "n1_image.png")


def noise(height, width):
    """Seeded uint8 RGB noise: unlike a smooth ramp, it tells one symmetric filter from another."""
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


def antialiased_halving(n_in):
    """PIL's BILINEAR weights for halving a side of n_in: taps 1,3,3,1 around each pair, renormalised at edges."""
    matrix = np.zeros((n_in // 2, n_in))
    for i in range(n_in // 2):
        for j, weight in zip(range(2 * i - 1, 2 * i + 3), (1, 3, 3, 1)):
            if 0 <= j < n_in:
                matrix[i, j] = weight
    return matrix / matrix.sum(axis=1, keepdims=True)


def bilinear_doubling(n_in):
    """Bilinear weights for doubling a side: output i samples input (i + 0.5) / 2 - 0.5, clamped."""
    matrix = np.zeros((2 * n_in, n_in))
    for i in range(2 * n_in):
        source = min(max((i + 0.5) / 2 - 0.5, 0), n_in - 1)
        low = int(np.floor(source))
        high = min(low + 1, n_in - 1)
        matrix[i, low] += 1 - (source - low)
        matrix[i, high] += source - low
    return matrix


# PIL resamples uint8 images in two passes (width, then height), rounding to uint8 after each.
TWO_ROUNDINGS = 1.0


def apply(rows, columns, image):
    return np.einsum("iy,yxc,jx->ijc", rows, image.astype(np.float64), columns)


def test_center_crop_takes_the_central_window(tmp_path):
    image = noise(10, 8)  # shorter side 8 = round(7 * 256 / 224): no resampling, only the crop
    save_rgb(tmp_path, image)
    data = load_dataset(tmp_path, model_of_size(7))
    assert data.resize == "center-crop"
    np.testing.assert_array_equal(np.rint(data.images()[0] * 255), image[1:8, 0:7])


def test_center_crop_resizes_the_shorter_side_bilinearly(tmp_path):
    image = noise(20, 16)  # shorter side 16 -> 8: PIL's antialiased bilinear halving, then crop 7x7
    save_rgb(tmp_path, image)
    data = load_dataset(tmp_path, model_of_size(7), resize="center-crop")
    expected = apply(antialiased_halving(20), antialiased_halving(16), image)[1:8, 0:7]
    assert data.images().shape == (1, 7, 7, 3)
    np.testing.assert_allclose(data.images()[0] * 255, expected, atol=TWO_ROUNDINGS)


def test_64_upscale_box_resizes_the_photo_then_upscales_bilinearly(tmp_path):
    image = noise(128, 128)
    save_rgb(tmp_path, image)
    data = load_dataset(tmp_path, model_of_size(128), resize="64-upscale")
    assert data.resize == "64-upscale" and data.stored.shape == (1, 64, 64, 3)
    box_means = image.reshape(64, 2, 64, 2, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(data.stored[0], box_means, atol=TWO_ROUNDINGS)
    expected = apply(bilinear_doubling(64), bilinear_doubling(64), data.stored[0])
    np.testing.assert_allclose(data.images()[0] * 255, expected, atol=1e-3)


def test_upscale_corner_pixels_by_hand():
    stored = np.zeros((1, 2, 2, 3), np.uint8)
    stored[0, :, :, 0] = [[0, 100], [200, 255]]
    upscaled = resize.finish(stored, (4, 4, 3))[0, :, :, 0] * 255
    # Output row/column 1 samples source 0.25: weights 0.75 and 0.25; row/column 0 clamps to 0.
    np.testing.assert_allclose(upscaled[0], [0, 25, 75, 100], atol=1e-3)
    np.testing.assert_allclose(upscaled[1, 1], 0.75 * (0.75 * 0 + 0.25 * 100) + 0.25 * (0.75 * 200 + 0.25 * 255), atol=1e-3)


def test_native_keeps_pixels_and_rejects_other_sizes():
    images = noise(5, 5)[None]
    assert resize.prepare_array(images, "native", (5, 5, 3)) is images
    with pytest.raises(UserError, match="6x6"):
        resize.prepare_array(images, "native", (6, 6, 3))


def test_unknown_mode_is_an_error():
    with pytest.raises(UserError, match="center-crop, 64-upscale, native"):
        resize.check_mode("bicubic")


@pytest.mark.parametrize("size", [(8000, 1), (1, 100000)])
def test_an_extremely_elongated_image_is_cut_before_resizing(tmp_path, size, monkeypatch, caplog):
    # Before: an 8000x1 PNG (106 bytes) became 2,048,000 x 256 (1.5 GB) before the crop.
    Image.new("RGB", size, (200, 10, 10)).save(tmp_path / "n1_long.png")
    requested = []
    original = Image.Image.resize
    monkeypatch.setattr(Image.Image, "resize", lambda self, wh, *a, **k: requested.append(wh) or original(self, wh, *a, **k))
    data = load_dataset(tmp_path, model_of_size(224))
    assert max(w * h for w, h in requested) <= 256 * 256 * resize.MAX_ASPECT
    np.testing.assert_allclose(data.images(0, 1)[0, 100, 100], np.array([200, 10, 10]) / 255, rtol=1e-6)
    assert "1 image(s) longer than 8:1, only their central 8:1 part is used: n1_long.png" in caplog.text


def test_a_moderately_wide_image_is_resized_as_before(tmp_path):
    pixels = noise(20, 100)  # 5:1, under MAX_ASPECT
    image = Image.fromarray(pixels)
    assert resize.limit_aspect(image) is image
