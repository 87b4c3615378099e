"""The per-image outcome store: what a scan keeps, its size, reading it back, resuming from it."""

import json
import os
import subprocess
import sys

import filelock
import numpy as np
import pytest

from inception_tools.data import load_dataset
from inception_tools.errors import UserError
from inception_tools.importance import ImportanceConfig, OutcomeStore, score_layer
from inception_tools.importance.stage import compute
from inception_tools.runner import Checkpoint
from inception_tools.importance.store import RECORD
from inception_tools.importance.table import COLUMNS
from inception_tools.surgery import Network

LAYER = "mixed4a"


def test_a_record_is_13_bytes_and_50k_by_832_stays_well_under_1_gb():
    assert RECORD.itemsize == 13
    assert 50_000 * 832 * RECORD.itemsize / 1e9 < 0.55


@pytest.fixture(scope="module")
def digits(embedded_model):
    return load_dataset("embedded", embedded_model, limit=200)


@pytest.fixture(scope="module")
def scanned(embedded_model, digits, tmp_path_factory):
    out = tmp_path_factory.mktemp("scan") / "importance.csv"
    result = score_layer(Network(embedded_model, LAYER), digits, ImportanceConfig((3, 5, 8), 1, batch_size=64), str(out))
    return out, result


def test_outcomes_read_back_give_the_csv(scanned, digits):
    out, result = scanned
    store = OutcomeStore.open(out)
    assert store.channels == [3, 5, 8] and store.n_images == 200
    assert (store.labels == digits.labels).all() and store.ids == digits.ids
    assert result.column("importance").tolist() == (store.base_correct.sum() - store.correct.sum(axis=1)).tolist()
    np.testing.assert_allclose(result.column("mean_kl"), store.field("kl").astype(np.float64).mean(axis=1))
    with open(out) as f:
        assert f.readline().strip().split(",") == COLUMNS


def test_a_foreign_outcome_file_is_refused(scanned, tmp_path):
    out, _ = scanned
    fake = tmp_path / "importance.csv"
    fake.write_text(out.read_text())
    np.save(tmp_path / "importance.outcomes.npy", np.zeros((3, 200)))
    (tmp_path / "importance.images.npz").write_bytes((out.parent / "importance.images.npz").read_bytes())
    with pytest.raises(UserError, match="does not match"):
        OutcomeStore.open(fake)


def test_a_changed_channel_list_keeps_earlier_progress(embedded_model, digits, tmp_path):
    """Records computed for one channel list are reused by a scan of another from the same checkpoint (the
    store holds every channel of the layer); through the runner, another channel list is other settings."""
    net = Network(embedded_model, LAYER)
    checkpoint = Checkpoint(str(tmp_path / "checkpoint"))
    first = compute(net, digits, ImportanceConfig((0, 1, 2), 1, batch_size=64), checkpoint, report=lambda line: None)
    messages = []
    again = compute(net, digits, ImportanceConfig((0, 1, 2, 3, 4), 1, batch_size=64), checkpoint,
                    report=messages.append)
    assert f"resuming: {3 * 200} of {5 * 200} channel-images already scored" in messages
    assert [r["importance"] for r in again.rows[:3]] == [r["importance"] for r in first.rows]
    assert np.array_equal(again.store.records[:3], first.store.records)
    score_layer(net, digits, ImportanceConfig((0, 1, 2), 1, batch_size=64), str(tmp_path / "importance.csv"))
    with pytest.raises(UserError, match=r"was made with config.channels=\[0, 1, 2\] \(now \[0, 1, 2, 3, 4\]\)"):
        score_layer(net, digits, ImportanceConfig((0, 1, 2, 3, 4), 1, batch_size=64), str(tmp_path / "importance.csv"))


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "inception_tools", *args], capture_output=True, text=True)


def test_a_second_scan_of_the_same_out_is_refused_in_one_line(tmp_path):
    out = tmp_path / "importance.csv"
    with filelock.FileLock(str(tmp_path / "importance.lock")):
        result = _cli("importance", "--layer", LAYER, "--limit", "50", "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: another process is writing") and result.stderr.count("\n") == 1
    assert not out.exists()


def test_temporaries_left_by_a_killed_run_are_removed(tmp_path):
    out = tmp_path / "importance.csv"
    partial = tmp_path / "importance.partial"
    (partial / "store").mkdir(parents=True)
    stale = [tmp_path / ".importance.csv.x1y2.tmp", tmp_path / ".importance.outcomes.npy.abc.tmp",
             partial / ".state.npz.q.tmp", partial / "store" / ".images.npz.r.tmp"]
    for path in stale:
        path.write_text("left by kill -9")
    other = tmp_path / ".someone-else.csv.z.tmp"
    other.write_text("not ours")
    assert _cli("importance", "--layer", LAYER, "--limit", "50", "--channels", "0-3", "--out", str(out)).returncode == 0
    assert not any(path.exists() for path in stale) and other.exists()


def test_until_reliable_stops_early_and_records_its_trajectory(tmp_path):
    out = tmp_path / "importance.csv"
    result = _cli("importance", "--layer", LAYER, "--until-reliable", "0.9", "--score", "kl", "--chunk", "100",
                  "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads(out.with_suffix(".json").read_text())
    trajectory = summary["until_reliable"]["trajectory"]
    used = summary["n_images_used"]
    assert [t["images"] for t in trajectory] == list(range(100, used + 1, 100))
    assert trajectory[-1]["projected"] >= 0.9 and all(t["projected"] < 0.9 for t in trajectory[:-1])
    assert used < 1000 and f"reached 0.9 for kl after {used} of 1000 images" in result.stdout
    store = OutcomeStore.open(out)
    assert store.n_images == used
    # The images are a seeded shuffle of the dataset, not its first rows.
    order = np.random.default_rng(0).permutation(1000)[:used]
    assert (store.image_index == order).all()
    assert summary["reliability"]["n_images"] == used


def test_until_reliable_that_is_never_reached_uses_every_image(tmp_path):
    out = tmp_path / "importance.csv"
    result = _cli("importance", "--layer", LAYER, "--limit", "200", "--until-reliable", "0.99", "--chunk", "100",
                  "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "did not reach 0.99 for importance after 200 of 200 images" in result.stdout
    assert not (tmp_path / "importance.partial").exists()


def test_an_out_that_is_a_folder_is_refused_before_scanning(tmp_path):
    (tmp_path / "importance.csv").mkdir()
    result = _cli("importance", "--layer", LAYER, "--limit", "50", "--out", str(tmp_path / "importance.csv"))
    assert result.returncode == 2 and "it is a folder" in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["importance.csv"]  # refused before any work
