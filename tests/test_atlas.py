"""The atlas stage on the embedded model: sampling, class scores, the runner (settings, resume, read back),
the command line's one-line errors and the API."""

import json
import os

import numpy as np
import pytest

import inception_tools as it
from files import assert_same_bytes
from inception_tools import runner
from inception_tools.atlas import classes, render, sample, stage
from inception_tools.atlas.stage import STAGE, Atlas, AtlasConfig
from inception_tools.cli import main
from inception_tools.errors import UserError

LAYERS = ("mixed3a", "mixed4a")
CONFIG = AtlasConfig(layers=LAYERS, grid=4, per_image=2, min_count=3, steps=4, render_batch=4, patches=3,
                     top_classes=3)
LIMIT = 120


@pytest.fixture(scope="module")
def model():
    return it.load_model("embedded")


@pytest.fixture(scope="module")
def digits(model):
    return it.load_dataset("embedded", model, limit=LIMIT)


@pytest.fixture(scope="module")
def whole(model, digits, tmp_path_factory):
    """An uninterrupted run through the runner: (folder, result)."""
    folder = tmp_path_factory.mktemp("atlas") / "whole"
    return folder, runner.run(STAGE, CONFIG, folder, model=model, dataset=digits)


def test_vectors_are_the_layer_at_seeded_positions_whatever_the_batches(model, digits):
    one = sample.sample_vectors(model, digits, LAYERS, per_image=3, seed=5, batch_size=7)
    other = sample.sample_vectors(model, digits, LAYERS, per_image=3, seed=5, batch_size=32)
    reader = sample.LayerReader(model, LAYERS)
    try:
        acts = reader(digits.images(0, LIMIT))
    finally:
        reader.close()
    for a, b, layer_acts in zip(one, other, acts):
        assert np.array_equal(a.vectors, b.vectors) and np.array_equal(a.positions, b.positions)
        assert len(a.vectors) == 3 * LIMIT and a.shape == layer_acts.shape[1:3]
        assert np.array_equal(a.vectors, layer_acts[a.rows, a.positions[:, 0], a.positions[:, 1]])
        for r in (0, 57):  # distinct positions within an image
            assert len({tuple(p) for p in a.positions[a.rows == r].tolist()}) == 3
    moved = sample.sample_vectors(model, digits, LAYERS[:1], per_image=3, seed=6)[0]
    assert not np.array_equal(moved.positions, one[0].positions)


def test_run_writes_the_atlas_and_its_settings(whole):
    folder, result = whole
    assert isinstance(result, Atlas) and [x.layer for x in result.layers] == list(LAYERS)
    settings = json.loads((folder / "settings.json").read_text())
    assert settings["stage"] == "atlas" and settings["config"] == runner.config_dict(CONFIG)
    assert settings["inputs"]["model"] == "embedded" and settings["inputs"]["n_images"] == LIMIT
    data = json.loads((folder / "atlas.json").read_text())
    for found, entry in zip(result.layers, data["layers"]):
        assert len(found.vectors) == 2 * LIMIT == entry["n_vectors"]
        assert (found.counts >= CONFIG.min_count).all() and len(entry["cells"]) == len(found.cells) > 1
        assert found.renders.shape == (len(found.cells), 28, 28, 3) and found.renders.std() > 0
        assert found.patches.shape == (len(found.cells), 3, stage.PATCH_TILE, stage.PATCH_TILE, 3)
        for j, cell in enumerate(entry["cells"]):
            name = f"r{cell['row']:02d}_c{cell['col']:02d}.png"
            assert (folder / "cells" / found.layer / name).is_file() and (folder / "patches" / found.layer / name).is_file()
            assert [t["class"] for t in cell["top"]] == found.top[j].tolist()
    for name in STAGE.outputs + ("assets/atlas.js", "assets/blocks.css"):
        assert (folder / name).is_file(), name
    assert not (folder / runner.PARTIAL).exists()


def test_class_scores_are_the_logit_change_from_the_overall_mean(model, whole):
    found = whole[1].layer("mixed4a")
    mean = found.vectors.astype(np.float64).mean(axis=0)
    scores = classes.class_scores(model, "mixed4a", np.stack([mean, found.means[0]]), mean, found.shape)
    assert np.abs(scores[0]).max() < 1e-4  # the overall mean itself changes nothing
    assert np.allclose(scores[1], found.scores[0], atol=1e-5)
    assert np.array_equal(found.top[:, 0], found.scores.argmax(axis=1))


def _cli(capsys, *args):
    code = main(["atlas", *args])
    out, err = capsys.readouterr()
    return code, out, err


CLI_ARGS = ["--limit", str(LIMIT), "--layer", ",".join(LAYERS), "--grid", "4", "--per-image", "2", "--min-count", "3",
            "--steps", "4", "--render-batch", "4", "--patches", "3", "--top-classes", "3"]


def test_an_interrupted_command_resumes_to_the_same_bytes(whole, tmp_path, monkeypatch, capsys):
    calls = []
    real = render.optimize

    def stops_after_two_batches(*args):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(render, "optimize", stops_after_two_batches)
    folder = tmp_path / "resumed"
    code, _, err = _cli(capsys, *CLI_ARGS, "--out", str(folder))
    assert code == 130 and "run the same command again to resume" in err
    assert not (folder / "atlas.html").exists() and (folder / runner.PARTIAL / "render0_1.npz").is_file()
    missing = [i for i in range(len(LAYERS)) if not (folder / runner.PARTIAL / f"layout{i}.npz").is_file()]
    assert len(missing) < len(LAYERS)
    layouts = []
    real_layout = stage.embed.umap_layout
    monkeypatch.setattr(stage.embed, "umap_layout", lambda *args: layouts.append(1) or real_layout(*args))
    calls.clear()
    monkeypatch.setattr(render, "optimize", lambda *args: calls.append(1) or real(*args))
    code, out, err = _cli(capsys, *CLI_ARGS, "--out", str(folder))
    assert code == 0, err
    total = sum(-(-len(x.cells) // CONFIG.render_batch) for x in whole[1].layers)
    assert len(calls) == total - 2 and len(layouts) == len(missing)  # only what was not saved
    names = assert_same_bytes(whole[0], folder)
    assert "atlas.npz" in names and "atlas.png" in names and "atlas.html" in names


def test_a_finished_folder_is_read_back(model, digits, whole, monkeypatch):
    folder, result = whole
    monkeypatch.setattr(render, "optimize", lambda *args: pytest.fail("rendered again"))
    again = runner.run(STAGE, CONFIG, folder, model=model, dataset=digits)
    assert again.seconds == {} and again.config == CONFIG and again.ids == result.ids
    for a, b in zip(result.layers, again.layers):
        for name in stage.ARRAYS:
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
    with pytest.raises(UserError, match="made with config[.]"):
        runner.run(STAGE, AtlasConfig(layers=LAYERS, grid=5), folder, model=model, dataset=digits)


def test_model_checks_come_before_any_work(model, digits):
    with pytest.raises(UserError, match="unknown layer 'mixed9'"):
        stage.check_model(model, digits, AtlasConfig(layers=("mixed3a", "mixed9")))
    with pytest.raises(UserError, match="per_image = 50 positions, but mixed4a has only 7x7 = 49"):
        stage.check_model(model, digits, AtlasConfig(layers=LAYERS, per_image=50))
    with pytest.raises(UserError, match="120 vectors cannot fill a cell of min_count = 121"):
        stage.check_model(model, digits, AtlasConfig(layers=LAYERS, min_count=121))


@pytest.mark.parametrize("args, message", [
    (["--layer", "mixed9"], "error: unknown layer 'mixed9' for embedded"),
    (["--limit", "3", "--min-count", "5"], "error: 3 vectors cannot fill a cell of min_count = 5"),
    (["--per-image", "197", "--layer", "mixed3a"], "error: per_image = 197 positions, but mixed3a has only 14x14 = 196"),
    (["--seed", "-2"], "error: seed must be an integer of at least 0, not -2"),
    (["--layer", "mixed3a,mixed3a"], "error: layers are repeated"),
    (["--cossim-pow", "-1"], "error: cossim_pow must be a finite number of at least 0"),
    (["--size", "4"], "error: size must be an integer of at least 8, not 4"),
])
def test_cli_errors_are_one_line_and_write_nothing(tmp_path, capsys, args, message):
    code, _, err = _cli(capsys, *args, "--out", str(tmp_path / "a"))
    assert code == 2 and err.splitlines() == [err.strip()] and err.startswith(message), err
    assert not (tmp_path / "a").exists()


def test_cli_grid_out_of_range_is_refused_while_parsing(tmp_path, capsys):
    code, err = _cli_exit(capsys, "--grid", "0", "--out", str(tmp_path / "a"))
    assert code == 2 and "argument --grid: must be at least 1, not 0" in err
    assert not (tmp_path / "a").exists()


def _cli_exit(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(["atlas", *args])
    return exit_info.value.code, capsys.readouterr().err


def test_cli_reads_a_finished_atlas_back(whole, capsys):
    folder, _ = whole
    code, out, err = _cli(capsys, *CLI_ARGS, "--out", str(folder))
    assert code == 0, err
    assert f"mixed3a: {2 * LIMIT} vectors ({LIMIT} images x 2)" in out and "read back the finished atlas" in out


def test_api_returns_the_atlas_and_writes_nothing(model, digits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = it.atlas(model, digits, "mixed4a", grid=3, per_image=1, min_count=4, steps=2, render_batch=16,
                      patches=2)
    assert isinstance(result, Atlas) and result.layers[0].layer == "mixed4a"
    assert len(result.layers[0].vectors) == LIMIT and set(result.seconds) >= {"sample", "layout", "render"}
    assert os.listdir(tmp_path) == []
    with pytest.raises(UserError, match="unknown atlas settings: colour"):
        it.atlas(model, digits, "mixed4a", colour=1)
