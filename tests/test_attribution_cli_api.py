"""``inception-tools attribute`` / ``sanity`` and ``it.attribute`` / ``it.sanity``: one-line errors, nothing written."""

import os

import numpy as np
import pytest

import inception_tools as it
from inception_tools.cli import main

DOG_CAT = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "building-blocks", "dog_cat.jpg")


def one_error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@pytest.mark.parametrize("argv,message", [
    (["attribute", "--data", "embedded", "--class", "kit fox"], "unknown class 'kit fox' for embedded"),
    (["attribute", "--data", "embedded", "--method", "gradcam"], "gradcam needs a layer"),
    (["attribute", "--data", "embedded", "--method", "gradient", "--layer", "mixed4a"],
     "a layer is used only by gradcam and guided-gradcam"),
    (["attribute", "--data", "embedded", "--method", "gradcam", "--layer", "mixed9"], "unknown layer 'mixed9'"),
    (["attribute", "--image", "missing.png", "--method", "gradient"], "image missing.png does not exist"),
    (["sanity", "--methods", "gradcam,gradient"], "gradcam needs a layer"),
    (["sanity", "--methods", "gradient", "--depth", "7"], "cascade depth 7 out of range"),
    (["sanity", "--methods", "gradient", "--class", "tiger cat"], "unknown class 'tiger cat'"),
])
def test_bad_input_is_one_error_line_and_writes_nothing(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv + ["--out", str(tmp_path / "out")]) == 2
    assert message in one_error_line(capsys)
    assert os.listdir(tmp_path) == []


def test_data_randomization_needs_the_embedded_model(standin_dir, tmp_path, capsys):
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.full((240, 240, 3), 128, np.uint8)).save(photos / "n00000001_a.JPEG", format="JPEG")
    argv = ["sanity", "--model", "InceptionV1", "--model-path", str(standin_dir / "InceptionV1.pb"), "--data",
            str(photos), "--methods", "gradient", "--retrain-epochs", "2", "--out",
            str(tmp_path / "out")]
    assert main(argv) == 2
    assert "only works for the embedded model" in one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_attribute_command_writes_pages(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["attribute", "--data", "embedded", "--limit", "2", "--layer", "mixed4a", "--ig-steps", "2",
                 "--smoothgrad-samples", "2", "--out", str(out)]) == 0
    assert "wrote 2 image(s) x 7 method(s)" in capsys.readouterr().out
    assert (out / "index.html").is_file() and len(list((out / "maps").glob("*/gradcam.npy"))) == 2


def test_sanity_command_reports(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sanity", "--limit", "3", "--methods", "gradient,smoothgrad", "--depth", "1",
                 "--smoothgrad-samples", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "gradient: Spearman |map| after softmax2" in printed and "report.md" in printed
    assert (out / "cascade.png").is_file() and (out / "curves.png").is_file()


def test_api_returns_typed_results_and_writes_nothing(tmp_path, monkeypatch):
    from inception_tools.attribution.stage import Attribution
    from inception_tools.sanity.stage import Sanity

    monkeypatch.chdir(tmp_path)
    model = it.load_model("embedded")
    data = it.load_dataset("embedded", model, limit=2)
    maps = it.attribute(model, data, ig_steps=2, smoothgrad_samples=2)
    assert isinstance(maps, Attribution)
    assert maps.methods == ("gradient", "grad-x-input", "smoothgrad", "integrated-gradients", "guided-backprop")
    checks = it.sanity(model, data, methods=["gradient"], depth=1)
    assert isinstance(checks, Sanity) and checks.similarity.shape == (1, 1, 4, 2)
    assert os.listdir(tmp_path) == []
    written = it.attribute(model, data, methods=["gradcam"], layer="mixed4a", out="att")
    assert np.array_equal(np.load("att/maps/0000_digits_0/gradcam.npy"), written.map("gradcam", 0))


def test_inceptionv1_gradcam_finds_the_dog_and_the_cat(inceptionv1_path):
    """Grad-CAM (mixed5b) of the squashed dog_cat photo: the dog is on the left, the cat on the right."""
    if not os.path.isfile(DOG_CAT):
        pytest.skip("../shared/data/building-blocks is absent")
    model = it.load_model("InceptionV1", inceptionv1_path)
    left = {}
    for name in ("Labrador retriever", "tiger cat"):
        cam = it.attribute(model, DOG_CAT, methods=["gradcam"], layer="mixed5b", target=name,
                           resize="squash").map("gradcam")
        left[name] = cam[:, :112].sum() / cam.sum()
    assert left["Labrador retriever"] > 0.6 and left["tiger cat"] < 0.3, left
