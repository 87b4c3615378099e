"""The dissection stage on the embedded model: the numbers, the runner (settings, resume), the CLI and the API."""

import csv
import json
import os

import numpy as np
import pytest

import inception_tools as it
from inception_tools import runner
from inception_tools.cli import main
from inception_tools.dissect import concepts_of, stage
from inception_tools.dissect.masks import LayerMasks
from inception_tools.errors import UserError

from broden_fixture import write_broden
from files import assert_same_bytes

FAST = dict(resolution=14, batch_size=16, examples=3)


@pytest.fixture(scope="module")
def digits(embedded_model):
    return it.load_dataset("embedded", embedded_model, limit=48)


@pytest.fixture(scope="module")
def dissected(embedded_model, digits):
    config = stage.DissectConfig(layer="mixed3a", iou_threshold=0.0, compose=2, compose_units=3, **FAST)
    return stage.compute(embedded_model, concepts_of("colors", embedded_model, digits), config)


@pytest.mark.parametrize("field, value, message", [
    ("quantile", 0.0, "quantile must be between 0 and 1"),
    ("resolution", 0, "resolution must be at least 1"),
    ("compose", -1, "compose must be 0"),
    ("iou_threshold", 1.5, "iou_threshold must be in"),
    ("layer", "", "layer must be given"),
])
def test_bad_settings_are_refused_when_made(field, value, message):
    settings = {"layer": "mixed3a", field: value}
    with pytest.raises(UserError, match=message):
        stage.DissectConfig(**settings)


def test_thresholds_match_the_exact_quantile_of_every_position(embedded_model, digits, dissected):
    reader = LayerMasks(embedded_model, "mixed3a", 14)
    try:
        acts = reader.activations(digits.images(0, len(digits)))
    finally:
        reader.close()
    exact = np.quantile(acts.reshape(-1, acts.shape[-1]).astype(np.float64), 0.995, axis=0)
    assert np.all(np.abs(dissected.thresholds - exact) <= dissected.threshold_error + 1e-6 * exact)
    assert dissected.threshold_error.max() < 1e-3 * exact.max()


def test_counts_equal_a_direct_boolean_count(embedded_model, digits, dissected):
    reader = LayerMasks(embedded_model, "mixed3a", 14)
    try:
        images = digits.images(0, len(digits))
        small = reader.small_images(images)
        masks = reader.masks(images, np.arange(96), dissected.thresholds)
    finally:
        reader.close()
    concepts = concepts_of("colors", embedded_model, digits).masks(0, len(digits), small)
    m = masks.reshape(-1, 96).astype(np.int64)
    c = concepts.reshape(-1, 11).astype(np.int64)
    assert np.array_equal(dissected.intersection, m.T @ c)
    assert np.array_equal(dissected.unit_area, m.sum(axis=0))
    assert np.array_equal(dissected.concept_area, c.sum(axis=0))
    per_image = masks.reshape(len(digits), -1, 96).astype(np.int64), concepts.reshape(len(digits), -1, 11)
    group = np.arange(len(digits)) % 20 == 7                 # images 7, 27, 47 count in group 7
    assert np.array_equal(dissected.group_intersection[7],
                          np.einsum("npk,npc->kc", per_image[0][group], per_image[1][group].astype(np.int64)))
    se = dissected.best_iou_se
    assert se.shape == (96,) and np.all(se >= 0) and se[dissected.detectors].max() > 0
    # about the quantile's share of the positions lands in the masks (bilinear upsampling blurs it a little)
    assert 0.001 < m.mean() < 0.02


def test_detectors_examples_and_formulas(dissected):
    found = dissected.detectors
    assert len(found) and np.all(np.diff(dissected.best_iou[found]) <= 0)
    assert np.array_equal(dissected.example_channels, found[:stage.PAGE_DETECTORS])
    assert dissected.examples.shape == (len(dissected.example_channels), 3, 14, 14, 3)
    assert dissected.examples.dtype == np.uint8
    # a formula is never worse than the channel's best single concept (the beam starts from them)
    assert len(dissected.formulas) == 3 == len(dissected.formula_channels)
    assert np.all(dissected.formula_iou >= dissected.best_iou[dissected.formula_channels] - 1e-12)
    assert dissected.by_category()["color"]["detectors"] == len(found)


def test_a_dense_or_unknown_layer_is_refused(embedded_model):
    from inception_tools.dissect import check_layer

    with pytest.raises(UserError, match="unknown layer"):
        check_layer(embedded_model, "mixed9")
    mlp = it.load_model("embedded-mlp")
    with pytest.raises(UserError, match="no spatial map"):
        check_layer(mlp, "dense1")


def test_api_returns_the_result_and_writes_nothing(embedded_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    digits = it.load_dataset("embedded", embedded_model, limit=16)
    result = it.dissect(embedded_model, digits, "conv2d0", **FAST)
    assert isinstance(result, stage.Dissection)
    assert result.intersection.shape == (48, 11) and result.layer == "conv2d0"
    assert os.listdir(tmp_path) == []


def test_broden_folder_through_the_api(embedded_model, tmp_path):
    fixture = write_broden(tmp_path / "broden", n=6)
    result = it.dissect(embedded_model, None, "mixed3a", concepts=str(fixture["folder"]), resolution=16,
                        examples=2, iou_threshold=0.0)
    assert result.concept_names == ["red-c", "blue-c", "square", "disk", "lab-s"]
    assert result.concept_area.tolist()[4] == 2 * 16 * 16  # the scene covers two whole images
    assert set(result.by_category()) == {"color", "object", "part", "scene"}
    with pytest.raises(UserError, match="brings its own images"):
        it.dissect(embedded_model, it.load_dataset("embedded", embedded_model, limit=4), "mixed3a",
                   concepts=str(fixture["folder"]))


class Interrupt(Exception):
    pass


def test_runner_writes_settings_and_a_killed_run_resumes_to_the_same_bytes(embedded_model, tmp_path, monkeypatch):
    digits = it.load_dataset("embedded", embedded_model, limit=64)
    settings = dict(iou_threshold=0.0, compose=2, compose_units=2, **FAST)
    whole = it.dissect(embedded_model, digits, "mixed3a", out=str(tmp_path / "whole"), **settings)
    manifest = json.loads((tmp_path / "whole" / "settings.json").read_text())
    assert manifest["stage"] == "dissect" and manifest["config"]["layer"] == "mixed3a"
    assert manifest["inputs"]["concepts"]["concepts"] == "colors" and manifest["inputs"]["model"] == "embedded"

    monkeypatch.setattr(stage, "CHECKPOINT_EVERY", 1)
    real_counts, calls = LayerMasks.counts, []

    def counts_then_die(self, *args):
        calls.append(1)
        if len(calls) == 3:
            raise Interrupt
        return real_counts(self, *args)

    monkeypatch.setattr(LayerMasks, "counts", counts_then_die)
    with pytest.raises(Interrupt):
        it.dissect(embedded_model, digits, "mixed3a", out=str(tmp_path / "killed"), **settings)
    assert not (tmp_path / "killed" / "dissection.csv").exists()
    assert sorted(n for n in os.listdir(tmp_path / "killed" / runner.PARTIAL) if n.endswith(".npz")) == ["counts.npz", "histogram.npz", "refine.npz"]

    real_activations, passes = LayerMasks.activations, []
    monkeypatch.setattr(LayerMasks, "activations",
                        lambda self, images: passes.append(1) or real_activations(self, images))
    resumed = it.dissect(embedded_model, digits, "mixed3a", out=str(tmp_path / "killed"), **settings)
    assert passes == [] and len(calls) == 3 + 2      # no threshold pass again; the last 2 of 4 batches counted
    assert not (tmp_path / "killed" / runner.PARTIAL).exists()
    names = assert_same_bytes(tmp_path / "whole", tmp_path / "killed")
    assert {"dissection.csv", "dissection.npz", "index.html", "detectors.png"} <= set(names)
    assert any(name.startswith("examples/") for name in names)
    assert np.array_equal(whole.intersection, resumed.intersection)

    again = it.dissect(embedded_model, digits, "mixed3a", out=str(tmp_path / "killed"), **settings)
    assert again.formulas == whole.formulas and np.array_equal(again.examples, whole.examples)
    with pytest.raises(UserError, match="made with config"):
        it.dissect(embedded_model, digits, "mixed3a", out=str(tmp_path / "killed"), **{**settings, "quantile": 0.01})


def test_cli_writes_the_page_and_prints_the_detectors(tmp_path, capsys):
    out = tmp_path / "d"
    code = main(["dissect", "--layer", "mixed3a", "--limit", "32", "--resolution", "14", "--iou-threshold", "0",
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "channels are detectors" in printed and "color:" in printed
    page = (out / "index.html").read_text()
    with open(out / "dissection.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 96 and page.count('<tr data-channel=') == sum(r["detector"] == "1" for r in rows)
    assert all(float(r["iou_lo"]) <= float(r["iou"]) <= float(r["iou_hi"]) for r in rows)
    assert (out / "assets" / "gallery.css").is_file() and (out / "detectors.png").stat().st_size > 1000


@pytest.mark.parametrize("argv, message", [
    (["--layer", "mixed9"], "unknown layer 'mixed9'"),
    (["--layer", "mixed3a", "--concepts", "NOWHERE"], "concept folder NOWHERE does not exist"),
    (["--layer", "mixed3a", "--concepts", "."], "is not a Broden-layout concept folder: index.csv is missing"),
    (["--layer", "mixed3a", "--quantile", "2"], "quantile must be between 0 and 1"),
    (["--layer", "dense1", "--model", "embedded-mlp"], "no spatial map"),
])
def test_cli_errors_are_one_line_and_write_nothing(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["dissect", *argv, "--out", "d"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and message in err and "\n" not in err
    assert os.listdir(tmp_path) == []


def test_cli_refuses_data_with_a_broden_folder(tmp_path, capsys):
    fixture = write_broden(tmp_path / "broden")
    code = main(["dissect", "--layer", "mixed3a", "--concepts", str(fixture["folder"]), "--data", "embedded",
                 "--out", str(tmp_path / "d")])
    assert code == 2 and "--data is for --concepts colors" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_inceptionv1_conv2d2_finds_colour_detectors(inceptionv1_path, imagenet_sample):
    model = it.load_model("InceptionV1", inceptionv1_path)
    photos = it.load_dataset(imagenet_sample, model, limit=8)
    result = it.dissect(model, photos, "conv2d2", resolution=28, batch_size=8, examples=2)
    assert result.intersection.shape == (192, 11)
    assert len(result.detectors) >= 1   # conv2d2 is full of colour units (measured: many on 1000 photos)
