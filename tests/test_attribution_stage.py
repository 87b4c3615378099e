"""The attribution stage: config checks, compute writes nothing, the runner's files and read-back, one image files."""

import json
import os

import numpy as np
import pytest

from inception_tools import runner
from inception_tools.attribution import stage
from inception_tools.attribution.images import image_dataset
from inception_tools.errors import UserError


@pytest.fixture(scope="module")
def model():
    from inception_tools.models import load_model

    return load_model("embedded")


@pytest.fixture(scope="module")
def dataset(model):
    from inception_tools.data import load_dataset

    return load_dataset("embedded", model, limit=3)


FAST = dict(ig_steps=2, smoothgrad_samples=2)


@pytest.mark.parametrize("kwargs,message", [
    (dict(methods=("gradcam",)), "gradcam needs a layer"),
    (dict(methods=("gradient", "guided-gradcam")), "guided-gradcam needs a layer"),
    (dict(methods=("gradient",), layer="mixed4a"), "a layer is used only by gradcam and guided-gradcam"),
    (dict(methods=("saliency",)), "unknown method 'saliency'"),
    (dict(methods=("gradient",), ig_steps=0), "ig_steps must be a positive integer"),
    (dict(methods=("gradient",), smoothgrad_noise=-1.0), "smoothgrad_noise must be"),
    (dict(methods=("gradient",), seed=-2), "seed must be"),
])
def test_bad_configs_are_refused_naming_the_field(kwargs, message):
    with pytest.raises(UserError, match=message):
        stage.AttributeConfig(**kwargs)


def test_model_checks_come_first(model):
    with pytest.raises(UserError, match="unknown layer 'mixed9z'"):
        stage.check(model, stage.AttributeConfig(methods=("gradcam",), layer="mixed9z"))
    with pytest.raises(UserError, match="unknown class 'cat'"):
        stage.check(model, stage.AttributeConfig(methods=("gradient",), target="cat"))


def test_compute_returns_maps_and_writes_nothing(model, dataset, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = stage.compute(model, dataset, stage.AttributeConfig(layer="mixed4a", **FAST))
    assert os.listdir(tmp_path) == []
    assert isinstance(result, stage.Attribution)
    assert result.maps.shape == (7, 3, 28, 28) and result.maps.dtype == np.float32
    assert result.images.shape == (3, 28, 28, 3)
    assert result.map("gradcam", 1).shape == (28, 28) and result.map("gradcam", 1).min() >= 0
    assert result.class_names == [model.label_names[t] for t in result.targets]
    fixed = stage.compute(model, dataset, stage.AttributeConfig(methods=("gradient",), target="7"))
    assert fixed.targets.tolist() == [7, 7, 7]


def test_runner_writes_every_file_and_reads_them_back(model, dataset, tmp_path):
    config = stage.AttributeConfig(layer="mixed4a", **FAST)
    result = runner.run(stage.STAGE, config, tmp_path / "out", model=model, dataset=dataset)
    out = tmp_path / "out"
    stems = stage.stems(dataset.ids)
    assert stems[0] == "0000_digits_0"
    for stem in stems:
        assert (out / "pages" / f"{stem}.png").is_file() and (out / "pages" / f"{stem}.html").is_file()
        for method in config.methods:
            assert np.array_equal(np.load(out / "maps" / stem / f"{method}.npy"),
                                  result.maps[config.methods.index(method), stems.index(stem)])
            assert (out / "overlays" / stem / f"{method}.png").is_file()
    summary = json.loads((out / "attribution.json").read_text())
    assert [image["stem"] for image in summary["images"]] == stems
    assert "pages/0000_digits_0.html" in (out / "index.html").read_text()
    again = runner.run(stage.STAGE, config, out, model=model, dataset=dataset)
    assert np.array_equal(again.maps, result.maps) and again.ids == result.ids and again.layer == "mixed4a"
    assert np.allclose(again.images, result.images, atol=1 / 255)


def test_one_image_file(model, tmp_path):
    from PIL import Image

    path = tmp_path / "wide.png"
    pixels = np.zeros((28, 56, 3), np.uint8)
    pixels[:, :28] = 255  # left half white
    Image.fromarray(pixels).save(path)
    squashed = image_dataset(str(path), model, "squash")
    cropped = image_dataset(str(path), model, "center-crop")
    assert len(squashed) == 1 and squashed.ids == ["wide.png"]
    left, right = squashed.images(0, 1)[0, :, :10].mean(), squashed.images(0, 1)[0, :, -10:].mean()
    assert left > 0.9 and right < 0.1  # both halves kept
    assert cropped.images(0, 1).shape == (1, 28, 28, 3)
    with pytest.raises(UserError, match="does not exist"):
        image_dataset(str(tmp_path / "missing.png"), model)
    with pytest.raises(UserError, match="unknown resize"):
        image_dataset(str(path), model, "stretch")


def test_chunks_and_their_checkpoints_give_the_same_maps(model, dataset, monkeypatch):
    config = stage.AttributeConfig(methods=("gradient", "smoothgrad"), smoothgrad_samples=2, batch_size=2)
    whole = stage.compute(model, dataset, config)
    monkeypatch.setattr(stage, "CHUNK", 2)
    checkpoint = runner.Checkpoint()
    chunked = stage.compute(model, dataset, config, checkpoint)
    np.testing.assert_allclose(chunked.maps, whole.maps, rtol=1e-5, atol=1e-7)
    assert checkpoint.load("maps000000")["maps"].shape[1] == 2 and checkpoint.load("maps000002")["maps"].shape[1] == 1
