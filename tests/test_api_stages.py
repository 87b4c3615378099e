"""Every command as a Python function: in-memory results, nothing written unless ``out`` is given."""

import csv
import os
import tempfile

import numpy as np
import pytest

import inception_tools as it
from inception_tools.classes import ClassStats
from inception_tools.errors import UserError

LAYER = "mixed3a"


@pytest.fixture
def quiet_folder(tmp_path, monkeypatch):
    """The working directory and the temporary folder, both ``tmp_path / "cwd"``: must stay empty."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture(scope="module")
def scan(tmp_path_factory, embedded_model):
    """An importance CSV of mixed3a on 120 digits, and its dataset."""
    folder = tmp_path_factory.mktemp("scan")
    ds = it.load_dataset("embedded", embedded_model, limit=120)
    it.importance(embedded_model, LAYER, ds, top_k=1, out=str(folder / "importance.csv"))
    return folder, ds


def write_answers(path, channels):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["model", "layer", "neuron", "question1", "question3", "question4", "participant"])
        for i, channel in enumerate(channels):
            writer.writerow(["embedded", LAYER, channel, 1 + i % 5, 5 - i % 5, 3, "ann"])


def test_select_returns_the_groups_and_writes_only_with_out(scan, quiet_folder):
    folder, _ = scan
    members = it.select(str(folder / "importance.csv"), top=24, middle=24, seed=3)
    assert os.listdir(quiet_folder) == []
    assert len(members) == 48 and {m.group for m in members} == {"top", "middle"}
    assert sorted(m.rank for m in members if m.group == "top") == list(range(1, 25))
    out = quiet_folder / "groups.csv"
    assert [m.channel for m in it.select(str(folder / "importance.csv"), 24, 24, 3, out=str(out))] == \
        [m.channel for m in members]
    assert out.read_text().count("\n") == 49
    with pytest.raises(UserError, match="is an input"):
        it.select(str(folder / "importance.csv"), out=str(folder / "importance.csv"))


def test_gallery_ranks_without_writing(scan, quiet_folder):
    folder, _ = scan
    channels = it.gallery(str(folder), score="kl")
    assert os.listdir(quiet_folder) == [] and not (folder / "gallery").exists()
    assert [c.rank for c in channels] == list(range(1, 97))
    kl = [c.mean_kl for c in channels]
    assert kl == sorted(kl, reverse=True)
    it.gallery(str(folder), top_n=4, out=str(quiet_folder / "g"))
    assert (quiet_folder / "g" / "index.html").is_file() and (quiet_folder / "g" / "contact_sheet.png").is_file()


def test_survey_answers_and_analyze(scan, quiet_folder, tmp_path):
    folder, _ = scan
    groups = it.select(str(folder / "importance.csv"), top=24, middle=24)
    answers = tmp_path / "answers.csv"
    write_answers(answers, [m.channel for m in groups])
    assert it.survey_answers(str(folder)) == []
    rows = it.survey_answers(str(folder), answers=str(answers))
    assert len(rows) == 48 and rows[0]["participant"] == "ann"
    summary = it.analyze(str(folder / "importance.csv"), [str(answers)], top=24, resamples=200)
    assert os.listdir(quiet_folder) == []
    assert summary["groups"]["top"]["n_rated"] == 24 and summary["groups"]["middle"]["n_rated"] == 24
    assert 0 <= summary["mann_whitney"]["p"] <= 1
    it.analyze(str(folder / "importance.csv"), [str(answers)], top=24, resamples=200, out=str(quiet_folder / "a"))
    assert (quiet_folder / "a" / "summary.json").is_file()


def test_basis_in_memory(embedded_model, quiet_folder):
    ds = it.load_dataset("embedded", embedded_model, limit=120)
    study = it.basis(embedded_model, LAYER, ds, ablate=False, seed=1)
    assert os.listdir(quiet_folder) == []
    pca = study.bases["pca"]
    assert np.allclose(pca.vectors.T @ pca.vectors, np.eye(pca.dim), atol=1e-4)
    assert study.summary["d"] == 96 and study.summary["n_sampled"] == 120
    with pytest.raises(UserError, match="unknown basis"):
        it.basis(embedded_model, LAYER, ds, visual_basis="ica")


def test_classes_in_memory(quiet_folder):
    mlp = it.load_model("embedded-mlp")
    ds = it.load_dataset("embedded", mlp)
    result = it.classes(mlp, ds, ["dense3"], classes="1,5,7", replicates=0)
    assert os.listdir(quiet_folder) == []
    assert isinstance(result, ClassStats) and result.labels == ["1", "5", "7"]
    assert [c["label"] for c in result.summary["per_class"]] == ["1", "5", "7"]
    mean, kept = result.mean["dense3"], result.kept
    assert mean.shape == (3, mlp.depth("dense3")) and mean.dtype == np.float64 and (kept > 0).all()
    assert result.contributing["dense3"].dtype == bool and result.count["dense3"].max() <= kept.max()
    k = result.index("5")
    assert result.index(int(result.classes[k])) == k
    with pytest.raises(UserError, match="class '2' is not among"):
        result.index("2")
    assert result.summary["per_class"][k]["kept"] == int(kept[k])
    from inception_tools.surgery import Network

    net = Network(mlp, "dense3")  # the mean of class 5 is the mean over its confidently right images
    acts, probs = net.run([net.T("dense3"), net.T(mlp.output_name)], ds.images(0, len(ds)))
    net.close()
    labels = np.asarray(ds.labels)
    right = (probs.argmax(axis=1) == labels) & (probs[np.arange(len(labels)), labels] >= 0.9)
    mine = right & (labels == result.classes[k])
    assert mine.sum() == kept[k]
    np.testing.assert_allclose(mean[k], acts[mine].mean(axis=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(UserError, match="threshold must be in"):
        it.classes(mlp, ds, ["dense3"], threshold=2.0)


def test_blocks_in_memory_renders_nothing(embedded_model, quiet_folder, tmp_path):
    from PIL import Image

    image = tmp_path / "digit.png"
    Image.fromarray((np.arange(28 * 28).reshape(28, 28) % 255).astype(np.uint8)).save(image)
    result = it.blocks(embedded_model, str(image), layers=[LAYER], n_classes=2)
    assert os.listdir(quiet_folder) == []
    assert len(result.classes) == 2 and [b.layer for b in result.layers] == [LAYER]
    assert result.layers[0].acts.shape[-1] == 96


def test_a_name_where_a_model_is_expected_is_one_line(quiet_folder):
    with pytest.raises(UserError, match="model must be a loaded model"):
        it.classes("embedded", None, ["dense3"])
