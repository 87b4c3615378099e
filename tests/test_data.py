"""The dataset readers on tiny synthetic folders, .npz files and digits."""

import io
import sys
import types

import numpy as np
import pytest
from PIL import Image

from inception_tools.data import load_dataset
from inception_tools.errors import UserError

WNIDS = ["n00000001", "n00000002", "n00000003"]


def tiny_model(image_shape=(8, 8, 3), label_ids=("dummy", *WNIDS, "unused-4")):
    return types.SimpleNamespace(
        name="Tiny", image_shape=image_shape, label_ids=list(label_ids), num_classes=len(label_ids)
    )


def digits_model(image_shape=(28, 28, 3)):
    return tiny_model(image_shape, [str(d) for d in range(10)])


def save(path, pixels, mode=None, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, np.uint8), mode).save(path, **kwargs)
    return path


def uniform(color, size=(12, 10)):
    return np.full((*size, 3), color, np.uint8)


def noise_jpeg_bytes(size=64):
    pixels = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def write_npz(path, data, labels, **extra):
    np.savez(path, data=np.asarray(data), labels=np.asarray(labels), **extra)
    return path


# Folders ---------------------------------------------------------------------------------


def test_flat_folder_labels_ids_and_pixels(tmp_path):
    save(tmp_path / "n00000002_a.png", uniform((10, 20, 30)))
    save(tmp_path / "n00000001_b.png", uniform((40, 50, 60)))
    save(tmp_path / "n00000003_c_d.bmp", uniform((70, 80, 90)))
    (tmp_path / "notes.txt").write_text("not an image")
    data = load_dataset(tmp_path, tiny_model())
    assert len(data) == 3
    assert data.ids == ["n00000001_b.png", "n00000002_a.png", "n00000003_c_d.bmp"]
    assert data.labels.dtype == np.int64 and data.labels.tolist() == [1, 2, 3]
    assert data.resize == "center-crop" and data.skipped == 0
    images = data.images()
    assert images.shape == (3, 8, 8, 3) and images.dtype == np.float32
    np.testing.assert_allclose(images[0], np.broadcast_to(np.float32([40, 50, 60]) / 255, (8, 8, 3)))


def test_ilsvrc_subfolder_layout(tmp_path):
    save(tmp_path / "n00000003" / "x.png", uniform(1))
    save(tmp_path / "n00000001" / "deeper" / "y.png", uniform(2))
    data = load_dataset(tmp_path, tiny_model())
    assert data.ids == ["n00000001/deeper/y.png", "n00000003/x.png"]
    assert data.labels.tolist() == [1, 3]


def test_grayscale_palette_rgba_and_cmyk_become_rgb(tmp_path):
    save(tmp_path / "n00000001_gray.png", np.full((10, 10), 100), "L")
    palette = Image.new("P", (10, 10), 1)
    palette.putpalette([0, 0, 0, 200, 10, 30] + [0] * 762)
    palette.save(tmp_path / "n00000002_palette.gif")
    save(tmp_path / "n00000003_rgba.png", np.full((10, 10, 4), (5, 6, 7, 0)), "RGBA")
    Image.new("CMYK", (10, 10), (0, 255, 255, 0)).save(tmp_path / "n00000003_cmyk.jpg")
    data = load_dataset(tmp_path, tiny_model())
    assert data.ids[:3] == ["n00000001_gray.png", "n00000002_palette.gif", "n00000003_cmyk.jpg"]
    pixels = np.rint(data.images() * 255)
    assert pixels.shape == (4, 8, 8, 3)
    assert (pixels[0] == 100).all()
    assert (pixels[1] == (200, 10, 30)).all()
    assert (pixels[3] == (5, 6, 7)).all()
    red = pixels[2].mean(axis=(0, 1))
    assert red[0] > 200 and red[1] < 60 and red[2] < 60


def test_corrupt_and_truncated_files_are_skipped_and_counted(tmp_path, caplog):
    save(tmp_path / "n00000001_good.png", uniform(9))
    (tmp_path / "n00000002_garbage.jpg").write_bytes(b"not a jpeg at all")
    jpeg = noise_jpeg_bytes()
    (tmp_path / "n00000003_truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    with Image.open(tmp_path / "n00000003_truncated.jpg") as header_only:
        assert header_only.size == (64, 64)  # the header alone reads fine; only decoding fails
    data = load_dataset(tmp_path, tiny_model())
    assert data.ids == ["n00000001_good.png"]
    assert data.skipped == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "skipped 2" in warnings[0] and "n00000003_truncated.jpg" in warnings[0]


def test_all_unreadable_is_an_error(tmp_path):
    (tmp_path / "n00000001_a.jpg").write_bytes(b"\xff\xd8 broken")
    with pytest.raises(UserError, match="could be read"):
        load_dataset(tmp_path, tiny_model())


def test_empty_folder_is_an_error(tmp_path):
    (tmp_path / "readme.md").write_text("no images here")
    with pytest.raises(UserError, match="no image files"):
        load_dataset(tmp_path, tiny_model())


def test_missing_source_is_an_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_dataset(tmp_path / "missing", tiny_model())


def test_unsupported_file_is_an_error(tmp_path):
    (tmp_path / "images.csv").write_text("a,b")
    with pytest.raises(UserError, match="unsupported"):
        load_dataset(tmp_path / "images.csv", tiny_model())


@pytest.mark.parametrize("name", ["n99999999_x.png", "tench.png", "dummy_x.png", "unused-4/x.png", "n99999999/x.png"])
def test_unknown_label_id_is_a_label_mismatch(tmp_path, name):
    save(tmp_path / "n00000001_ok.png", uniform(1))
    save(tmp_path / name, uniform(2))
    wrong = name.split("/")[0].split("_")[0].removesuffix(".png")
    with pytest.raises(UserError, match=f"label mismatch.*'{wrong}'"):
        load_dataset(tmp_path, tiny_model())


def test_limit_keeps_readable_files_round_robin_over_classes_in_sorted_order(tmp_path):
    (tmp_path / "n00000001_0.jpg").write_bytes(b"broken")
    for i, wnid in enumerate(["n00000003", "n00000002", "n00000001"]):
        save(tmp_path / f"{wnid}_{i + 1}.png", uniform(i))
    data = load_dataset(tmp_path, tiny_model(), limit=2)  # class 1's first file is unreadable: its turn passes
    assert data.ids == ["n00000002_2.png", "n00000003_1.png"]
    assert data.labels.tolist() == [2, 3] and data.skipped == 1


def test_limit_on_a_class_sorted_folder_keeps_every_class(tmp_path):
    for wnid in ("n00000001", "n00000002", "n00000003"):
        for i in range(4):
            save(tmp_path / f"{wnid}_{i}.png", uniform(i))
    data = load_dataset(tmp_path, tiny_model(), limit=6)  # before: the first 6 files, classes 1 and 2 only
    assert data.labels.tolist() == [1, 1, 2, 2, 3, 3]
    assert data.ids == [f"{w}_{i}.png" for w in ("n00000001", "n00000002", "n00000003") for i in (0, 1)]


def test_limit_on_the_embedded_digits_is_class_balanced():
    pytest.importorskip("inception_tools.data.digits")
    data = load_dataset("embedded", digits_model(), limit=100)
    counts = np.bincount(data.labels, minlength=10)
    assert counts.tolist() == [10] * 10  # before: --limit 100 was one digit
    assert data.ids == sorted(data.ids, key=lambda i: int(i.split(":")[1]))


def test_npz_digit_zero_is_a_label_of_the_embedded_model(tmp_path):
    path = write_npz(tmp_path / "digits.npz", chw_rows(3), [0, 9, 4])
    data = load_dataset(path, digits_model(), resize="center-crop")
    assert data.labels.tolist() == [0, 9, 4]  # before: "label 0 is outside the classes 1..9"
    with pytest.raises(UserError, match="label 10 \\(image 0\\) is outside the classes 0..9"):
        load_dataset(write_npz(tmp_path / "bad.npz", chw_rows(1), [10]), digits_model(), resize="center-crop")


def test_npz_limit_reads_only_the_rows_it_keeps(tmp_path):
    rows = chw_rows(40)
    path = tmp_path / "many.npz"
    np.savez_compressed(path, data=rows, labels=np.arange(40) % 3 + 1)
    data = load_dataset(path, tiny_model(image_shape=(64, 64, 3)), limit=3)
    assert data.ids == ["npz:0", "npz:1", "npz:2"] and data.labels.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(np.rint(data.images() * 255).astype(np.uint8),
                                  rows[:3].reshape(3, 3, 64, 64).transpose(0, 2, 3, 1))
    path_sorted = tmp_path / "sorted.npz"  # class-sorted: the kept rows lie far apart in the member
    np.savez_compressed(path_sorted, data=rows, labels=np.repeat([1, 2, 3, 1], 10))
    data = load_dataset(path_sorted, tiny_model(image_shape=(64, 64, 3)), limit=4)
    assert data.ids == ["npz:0", "npz:1", "npz:10", "npz:20"]
    np.testing.assert_array_equal(np.rint(data.images() * 255).astype(np.uint8),
                                  rows[[0, 1, 10, 20]].reshape(4, 3, 64, 64).transpose(0, 2, 3, 1))
    truncated = tmp_path / "short.npz"
    import zipfile
    with zipfile.ZipFile(truncated, "w") as z:
        with z.open("data.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": (5, 12288)})
            f.write(bytes(12288 * 2))
        with z.open("labels.npy", "w") as f:
            np.save(f, np.array([1, 2, 3, 1, 2]))
    with pytest.raises(UserError, match="truncated"):
        load_dataset(truncated, tiny_model(image_shape=(64, 64, 3)))


@pytest.mark.parametrize("limit", [0, -3, 1.5, True])
def test_bad_limit_is_an_error(tmp_path, limit):
    save(tmp_path / "n00000001_a.png", uniform(1))
    with pytest.raises(UserError, match="limit"):
        load_dataset(tmp_path, tiny_model(), limit=limit)


def test_unknown_resize_mode_is_an_error(tmp_path):
    save(tmp_path / "n00000001_a.png", uniform(1))
    with pytest.raises(UserError, match="unknown resize mode 'stretch'"):
        load_dataset(tmp_path, tiny_model(), resize="stretch")


def test_batches_cover_the_dataset_in_order(tmp_path):
    for i in range(5):
        save(tmp_path / f"n00000001_{i}.png", uniform(i * 40))
    data = load_dataset(tmp_path, tiny_model())
    batches = list(data.batches(2, desc="test"))
    assert [start for start, _ in batches] == [0, 2, 4]
    assert [len(images) for _, images in batches] == [2, 2, 1]
    np.testing.assert_array_equal(np.concatenate([images for _, images in batches]), data.images())
    with pytest.raises(UserError, match="batch size"):
        next(data.batches(0))


# Downsampled-ImageNet .npz ---------------------------------------------------------------


def chw_rows(n):
    """Rows whose value at (image n, channel c, row y, column x) is known: see pixel_value."""
    n_, c, y, x = np.meshgrid(np.arange(n), np.arange(3), np.arange(64), np.arange(64), indexing="ij")
    return pixel_value(n_, c, y, x).reshape(n, 3 * 64 * 64)


def pixel_value(n, c, y, x):
    return np.asarray((n * 7 + c * 50 + y * 3 + x) % 256, np.uint8)


def test_npz_rows_are_chw_and_come_out_hwc(tmp_path):
    path = write_npz(tmp_path / "val.npz", chw_rows(3), [3, 1, 2], mean=np.zeros(3))
    data = load_dataset(path, tiny_model(image_shape=(64, 64, 3)))
    assert data.resize == "64-upscale" and data.ids == ["npz:0", "npz:1", "npz:2"]
    assert data.labels.tolist() == [3, 1, 2]
    n, y, x, c = np.meshgrid(np.arange(3), np.arange(64), np.arange(64), np.arange(3), indexing="ij")
    np.testing.assert_array_equal(np.rint(data.images() * 255), pixel_value(n, c, y, x))
    assert data.images(1, 2)[0, 5, 9, 2] == np.float32(pixel_value(1, 2, 5, 9)) / np.float32(255)


def test_npz_upscales_to_the_model_size_and_honours_limit(tmp_path):
    path = write_npz(tmp_path / "val.npz", chw_rows(4), [1, 2, 3, 1])
    data = load_dataset(path, tiny_model(image_shape=(224, 224, 3)), limit=2)
    assert len(data) == 2 and data.labels.tolist() == [1, 2]
    assert data.stored.shape == (2, 64, 64, 3)
    assert data.images().shape == (2, 224, 224, 3)


@pytest.mark.parametrize("bad", [0, 5, -1])
def test_npz_label_outside_the_classes_is_named(tmp_path, bad):
    path = write_npz(tmp_path / "val.npz", chw_rows(2), [1, bad])
    with pytest.raises(UserError, match=f"label {bad} \\(image 1\\)"):
        load_dataset(path, tiny_model())


@pytest.mark.parametrize("placeholder", ["dummy", "unused-2"])
def test_npz_label_on_a_placeholder_output_is_an_error(tmp_path, placeholder):
    path = write_npz(tmp_path / "val.npz", chw_rows(2), [1, 2])
    model = tiny_model(label_ids=("dummy", "n00000001", placeholder, "n00000003"))
    with pytest.raises(UserError, match=f"label 2 .*placeholder class '{placeholder}'"):
        load_dataset(path, model)


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"images": np.zeros((1, 12288), np.uint8), "labels": [1]}, "no data"),
        ({"data": np.zeros((1, 12288), np.uint8), "y": [1]}, "no labels"),
        ({"data": np.zeros((1, 3072), np.uint8), "labels": [1]}, "uint8 \\[N, 12288\\]"),
        ({"data": np.zeros((1, 12288), np.float32), "labels": [1]}, "uint8 \\[N, 12288\\]"),
        ({"data": np.zeros((2, 12288), np.uint8), "labels": [1]}, "2 images but 1 labels"),
    ],
)
def test_malformed_npz_is_an_error(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(UserError, match=message):
        load_dataset(path, tiny_model())


def test_npz_without_images_is_an_error(tmp_path):
    path = write_npz(tmp_path / "empty.npz", np.zeros((0, 12288), np.uint8), np.zeros(0, np.int64))
    with pytest.raises(UserError, match="no images"):
        load_dataset(path, tiny_model())


def test_npz_that_is_not_a_zip_is_an_error(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"garbage")
    with pytest.raises(UserError, match="cannot read"):
        load_dataset(path, tiny_model())


# Embedded digits -------------------------------------------------------------------------


@pytest.fixture
def fake_digits(monkeypatch):
    images = np.zeros((5, 28, 28), np.uint8)
    images[:, 10:18, 12:16] = np.arange(1, 6, dtype=np.uint8)[:, None, None] * 50
    module = types.ModuleType("inception_tools.data.digits")
    module.load_digits = lambda split: (images, np.array([3, 1, 4, 1, 5], np.int64)) if split == "test" else None
    monkeypatch.setitem(sys.modules, "inception_tools.data.digits", module)
    return images


def test_embedded_digits_are_replicated_to_rgb_and_labelled_through_label_ids(fake_digits):
    model = digits_model()
    model.label_ids = model.label_ids[::-1]  # "9".."0": output index = 9 - digit
    data = load_dataset("embedded", model, limit=4)  # class-balanced: the second 1 (image 3) comes last
    assert data.resize == "native" and data.ids == [f"digits:{i}" for i in (0, 1, 2, 4)]
    assert data.labels.tolist() == [6, 8, 5, 4]
    images = data.images()
    assert images.shape == (4, 28, 28, 3)
    for channel in range(3):
        np.testing.assert_array_equal(np.rint(images[..., channel] * 255), fake_digits[[0, 1, 2, 4]])


def test_embedded_needs_digit_labels_and_the_native_size(fake_digits):
    with pytest.raises(UserError, match="label mismatch"):
        load_dataset("embedded", tiny_model(image_shape=(28, 28, 3)))
    with pytest.raises(UserError, match="native"):
        load_dataset("embedded", digits_model(image_shape=(32, 32, 3)))
    assert load_dataset("embedded", digits_model((32, 32, 3)), resize="center-crop").images().shape == (5, 32, 32, 3)


def test_real_embedded_digits():
    pytest.importorskip("inception_tools.data.digits")
    data = load_dataset("embedded", digits_model())
    assert len(data) == 1000 and set(data.labels.tolist()) == set(range(10))
    images = data.images(0, 10)
    assert images.shape == (10, 28, 28, 3) and images.max() > 0.5
    np.testing.assert_array_equal(images[..., 0], images[..., 2])


@pytest.mark.parametrize("key", ["data", "labels"])
def test_npz_with_an_object_array_is_refused_without_unpickling(tmp_path, key):
    # Before: "ValueError: Object arrays cannot be loaded when allow_pickle=False" as a traceback.
    arrays = {"data": np.zeros((2, 12288), np.uint8), "labels": np.array([1, 2])}
    arrays[key] = np.array([object()] * 2, dtype=object)
    np.savez(tmp_path / "objects.npz", **arrays)
    with pytest.raises(UserError, match="cannot read the arrays of .*objects.npz: Object arrays"):
        load_dataset(tmp_path / "objects.npz", tiny_model())


def test_npz_limit_does_not_load_the_whole_array(tmp_path):
    import tracemalloc
    import zipfile

    path = tmp_path / "zeros.npz"  # 3000 compressed images: 37 MB as an array, a few kB on disk
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("data.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": (3000, 12288)})
            for _ in range(30):
                f.write(bytes(12288 * 100))
        with z.open("labels.npy", "w") as f:
            np.save(f, np.arange(3000) % 3 + 1)
    tracemalloc.start()
    try:
        data = load_dataset(path, tiny_model(image_shape=(64, 64, 3)), limit=4)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(data) == 4
    assert peak < 4 << 20  # before: np.load read all 37 MB of 'data' for 4 images


def test_16_bit_and_float_images_are_scaled_not_clipped(tmp_path):
    from inception_tools.data.folder import decode_rgb

    grey16 = np.full((8, 8), 32768, np.uint16)
    grey16[0, 0], grey16[0, 1] = 0, 65535
    Image.fromarray(grey16).save(tmp_path / "n00000001_16bit.png")
    pixels = np.asarray(decode_rgb(tmp_path / "n00000001_16bit.png"))
    assert pixels[4, 4].tolist() == [128, 128, 128]  # before: 255, a 16-bit grey PNG arrived nearly white
    assert pixels[0, 0].tolist() == [0, 0, 0] and pixels[0, 1].tolist() == [255, 255, 255]
    Image.fromarray(np.full((8, 8), 0.25, np.float32), "F").save(tmp_path / "n00000002_float.tif")
    assert np.asarray(decode_rgb(tmp_path / "n00000002_float.tif"))[2, 2].tolist() == [64, 64, 64]  # before: 0
    Image.fromarray(np.full((8, 8), 200.0, np.float32), "F").save(tmp_path / "n00000003_f255.tif")
    assert np.asarray(decode_rgb(tmp_path / "n00000003_f255.tif"))[2, 2].tolist() == [200, 200, 200]
    data = load_dataset(tmp_path, tiny_model(), resize="center-crop")
    assert np.allclose(data.images()[0].mean(), 128 / 255, atol=0.01)
