"""Importance channel shards as Ray tasks: byte-identical to one process, resumable, retried, optional."""

import os
import subprocess
import sys

import numpy as np
import pytest

from inception_tools.cli import main
from inception_tools.data import load_dataset
from inception_tools.importance import ImportanceConfig, score_layer
from inception_tools.importance.run import engine_for, new_store
from inception_tools.importance.outcomes import channel_means
from inception_tools.importance.store import PENDING, RECORD, RIGHT, WRONG, OutcomeStore
from inception_tools.scale.importance import RayEngine, distributor, merge, shards
from inception_tools.scale.recipe import Recipe
from inception_tools.surgery import Network

LAYER = "mixed3a"
N_IMAGES = 200
CHANNELS = list(range(12))  # three groups of the fast engine's 4 channels x 32 images per run


@pytest.fixture(scope="module")
def digits(embedded_model):
    return load_dataset("embedded", embedded_model, limit=N_IMAGES)


@pytest.fixture(scope="module")
def recipe(embedded_model):
    return Recipe(embedded_model.name, embedded_model.path, LAYER, data="embedded", limit=N_IMAGES)


def _files(csv_path):
    stem = os.fspath(csv_path)[:-len(".csv")]
    return [open(path, "rb").read() for path in (csv_path, stem + ".outcomes.npy", stem + ".images.npz")]


def test_shards_are_runs_of_whole_groups():
    groups = [[0, 1], [2, 3], [4, 5], [6]]
    assert shards(groups, 2) == [[0, 1, 2, 3], [4, 5, 6]]
    assert shards(groups, 10) == groups
    assert shards(groups, 1) == [[0, 1, 2, 3, 4, 5, 6]]


def test_merge_writes_only_pending_records():
    base = {"labels": np.zeros(3), "base_correct": np.ones(3, bool), "base_logprob": np.zeros(3),
            "image_index": np.arange(3), "ids": list("abc")}
    store = OutcomeStore(np.zeros((2, 3), RECORD), [5, 9], base)
    store.flush = lambda: None
    store.records[0, 1] = (WRONG, -7.0, 0.0, 0.0)
    incoming = np.zeros((2, 2), RECORD)
    incoming["outcome"], incoming["delta_logprob"] = RIGHT, 1.0
    merge(store, [5, 9], 1, incoming)
    assert store.records["outcome"].tolist() == [[PENDING, WRONG, RIGHT], [PENDING, RIGHT, RIGHT]]
    assert store.records["delta_logprob"].tolist() == [[0.0, -7.0, 1.0], [0.0, 1.0, 1.0]]


def test_ray_scan_is_byte_identical_to_one_process(embedded_model, digits, recipe, local_ray, tmp_path):
    ray, _ = local_ray
    net = Network(embedded_model, LAYER)
    one = tmp_path / "one" / "importance.csv"
    spread = tmp_path / "ray" / "importance.csv"
    score_layer(net, digits, ImportanceConfig(tuple(CHANNELS), 1), one)
    result = score_layer(net, digits, ImportanceConfig(tuple(CHANNELS), 1), spread, distribute=distributor(recipe, ray))
    assert _files(one) == _files(spread)
    assert not os.path.exists(os.path.splitext(spread)[0] + ".partial")
    assert result.store.n_images == N_IMAGES


def _store(folder, net, digits):
    os.makedirs(folder)
    values = channel_means(net, digits, 32)
    store, _ = new_store(folder, net, digits, 1, 32)
    return store, engine_for("fast", net, digits, values, 1, 32)


def test_resumed_fill_sends_only_missing_groups_and_a_killed_worker_is_retried(
        embedded_model, digits, recipe, local_ray, tmp_path):
    ray, crash = local_ray
    net = Network(embedded_model, LAYER)
    reference, local = _store(tmp_path / "one", net, digits)
    local.fill(reference, CHANNELS, 0, N_IMAGES)
    store, engine = _store(tmp_path / "ray", net, digits)
    engine.fill(store, CHANNELS[:4], 0, N_IMAGES)  # the first group done before an interruption
    progress = []
    crash.write_text("")  # the first task started kills its worker once
    RayEngine(engine, recipe, ray).fill(store, CHANNELS, 0, N_IMAGES, progress.append)
    assert not crash.exists() and os.path.exists(f"{crash}.taken")
    assert progress[0] == 4 * N_IMAGES and sum(progress) == len(CHANNELS) * N_IMAGES
    assert np.asarray(store.records).tobytes() == np.asarray(reference.records).tobytes()


def test_the_default_path_never_imports_ray(tmp_path):
    code = ("import sys; from inception_tools.cli import main; "
            f"assert main(['importance', '--channels', '0-1', '--limit', '40', '--out', {str(tmp_path / 'i.csv')!r}]) == 0; "
            f"assert main(['visualize', '--channels', '0', '--steps', '2', '--size', '16', '--out', {str(tmp_path)!r}]) == 0; "
            f"assert main(['basis', '--limit', '120', '--ks', '1', '--out', {str(tmp_path / 'b')!r}]) == 0; "
            f"assert main(['classes', '--layers', 'conv2d0', '--limit', '40', '--out', {str(tmp_path / 'c')!r}]) == 0; "
            "print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("command, extra", [
    ("importance", ["--channels", "0-1", "--limit", "20"]), ("visualize", ["--channels", "0-1", "--steps", "2"]),
    ("basis", ["--limit", "120"]), ("classes", ["--layers", "conv2d0", "--limit", "20"])])
def test_ray_without_ray_installed_is_one_error_line(command, extra, monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    out = tmp_path / "study"
    assert main([command, *extra, "--ray", "--out", str(out / "importance.csv" if command == "importance" else out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "pip install '.[ray]'" in err[0]
    assert not out.exists()


@pytest.mark.parametrize("until", [[], ["--until-reliable", "0.99", "--chunk", "40"]], ids=["all", "until"])
def test_cli_ray_importance_matches_one_process(until, local_ray, tmp_path, capsys):
    base = ["importance", "--channels", "4-11", "--limit", "100", *until]
    assert main(base + ["--out", str(tmp_path / "one.csv")]) == 0
    assert main(base + ["--out", str(tmp_path / "ray.csv"), "--ray"]) == 0
    assert "Ray tasks on 2 CPUs" in capsys.readouterr().out
    assert _files(tmp_path / "one.csv") == _files(tmp_path / "ray.csv")


def test_pieces_are_one_channel_shard_per_cpu_in_blocks_of_whole_batches(
        embedded_model, digits, recipe, local_ray, tmp_path):
    ray, _ = local_ray
    store, engine = _store(tmp_path / "s", Network(embedded_model, LAYER), digits)
    group, pieces, done = RayEngine(engine, recipe, ray).tasks(store, CHANNELS, 0, N_IMAGES)
    assert (group, done) == (4, 0)
    assert [shard for shard, _, _ in pieces] == [CHANNELS[:8]] * 4 + [CHANNELS[8:]] * 4
    assert [(b0, b1) for _, b0, b1 in pieces[:4]] == [(0, 64), (64, 128), (128, 192), (192, 200)]


def test_cli_ray_principal_components_match_one_process(local_ray, tmp_path):
    base = ["importance", "--basis", "pca", "--components", "6", "--limit", "100"]
    assert main(base + ["--out", str(tmp_path / "one.csv")]) == 0
    assert main(base + ["--out", str(tmp_path / "ray.csv"), "--ray"]) == 0
    assert _files(tmp_path / "one.csv") == _files(tmp_path / "ray.csv")


@pytest.mark.parametrize("extra, message", [
    (["--ray-workers", "2"], "--ray-workers needs --ray"),
    (["--ray", "127.0.0.1:1"], "cannot reach a Ray head at 127.0.0.1:1"),
    (["--ray", "127.0.0.1:1", "--ray-workers", "2"], "--ray-workers applies to a local Ray only"),
])
def test_bad_ray_options_are_one_error_line(extra, message, tmp_path, capsys):
    out = tmp_path / "study" / "importance.csv"
    assert main(["importance", "--channels", "0-1", "--limit", "20", "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not out.parent.exists()
