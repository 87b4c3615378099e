"""The folder reader on the shared 1000-image ImageNet sample (skipped without ../shared)."""

import types
from pathlib import Path

import numpy as np
import pytest

from inception_tools.data import load_dataset

SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLE = SHARED / "data" / "imagenet-sample"
SYNSETS = SHARED / "models" / "inceptionv1" / "synsets.txt"
GRAYSCALE = ["n02096051_Airedale.JPEG", "n03804744_nail.JPEG", "n04254680_soccer_ball.JPEG"]

pytestmark = pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared (reference data)")


@pytest.fixture(scope="module")
def inception_like():
    """The attributes of InceptionV1 that the readers use, built from synsets.txt."""
    wnids = [line.split()[0] for line in SYNSETS.read_text().splitlines()[1:]]
    label_ids = ["dummy", *wnids] + [f"unused-{i}" for i in range(1001, 1008)]
    return types.SimpleNamespace(name="InceptionV1", image_shape=(224, 224, 3), label_ids=label_ids, num_classes=1008)


def synset_line(wnid):
    return next(i for i, line in enumerate(SYNSETS.read_text().splitlines()) if line.split()[0] == wnid)


def test_sample_loads_with_synset_line_labels(inception_like):
    data = load_dataset(SAMPLE, inception_like, limit=60)
    assert len(data) == 60 and data.skipped == 0
    assert data.ids == sorted(path.name for path in SAMPLE.glob("*.JPEG"))[:60]
    assert data.labels.tolist() == [synset_line(name.split("_")[0]) for name in data.ids]
    images = data.images(0, 4)
    assert images.shape == (4, 224, 224, 3) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1


def test_sample_grayscale_photos_come_out_rgb(tmp_path, inception_like):
    for name in GRAYSCALE:
        (tmp_path / name).symlink_to(SAMPLE / name)
    for mode in ("center-crop", "64-upscale"):
        images = load_dataset(tmp_path, inception_like, resize=mode).images()
        assert images.shape == (3, 224, 224, 3)
        np.testing.assert_array_equal(images[..., 0], images[..., 1])
        np.testing.assert_array_equal(images[..., 0], images[..., 2])
