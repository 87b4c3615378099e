"""Mean-ablation importance: statistics, the CSV, ranking quality, kill-and-resume, CLI errors."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from inception_tools.data import load_dataset
from inception_tools.importance import ImportanceConfig, channel_means, score_layer
from inception_tools.importance.stats import mcnemar_p, topk_correct, true_logprob
from inception_tools.importance.store import RECORD, RIGHT, WRONG, OutcomeStore
from inception_tools.importance.table import channel_rows
from inception_tools.surgery import Network

LAYER = "mixed4a"


def test_topk_correct_counts_ties_for_the_true_class():
    logits = np.array([[3.0, 1.0, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0], [1.0, 5.0, 4.0, 3.0]])
    labels = np.array([2, 3, 0])
    assert topk_correct(logits, labels, 1).tolist() == [False, True, False]
    assert topk_correct(logits, labels, 2).tolist() == [True, True, False]
    assert topk_correct(logits, labels, 4).tolist() == [True, True, True]


def test_exact_mcnemar():
    assert mcnemar_p(0, 0) == 1.0
    assert mcnemar_p(5, 0) == pytest.approx(2 * 0.5**5)
    assert mcnemar_p(3, 3) == 1.0
    # b=7, c=1: 2 * P(X <= 1), X ~ Bin(8, 1/2) = 2 * 9/256
    assert mcnemar_p(7, 1) == pytest.approx(18 / 256)


def test_channel_row_counts_from_the_records():
    base = np.array([True, True, False, True, False])
    records = np.zeros((1, 5), RECORD)
    records["outcome"] = np.where([False, True, True, False, False], RIGHT, WRONG)
    records["delta_logprob"] = -1.0
    store = OutcomeStore(records, [7], {"labels": np.zeros(5), "base_correct": base, "base_logprob": np.zeros(5),
                                        "image_index": np.arange(5), "ids": list("abcde")})
    (row,) = channel_rows(store, "m", "l", {})
    assert (row["feature_ind"], row["importance"], row["newly_wrong"], row["newly_right"]) == (7, 1, 2, 1)
    assert float(row["mean_delta_logprob"]) == pytest.approx(-1.0)
    assert float(row["mcnemar_p"]) == pytest.approx(mcnemar_p(2, 1))
    assert true_logprob(np.array([[0.0, 0.0]]), np.array([1]))[0] == pytest.approx(np.log(0.5))


@pytest.fixture(scope="module")
def digits(embedded_model):
    return load_dataset("embedded", embedded_model, limit=300)


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_scan_writes_every_channel(embedded_model, digits, tmp_path):
    net = Network(embedded_model, LAYER)
    out = tmp_path / "importance.csv"
    summary = score_layer(net, digits, ImportanceConfig(top_k=1, batch_size=100), str(out))
    rows = _read(out)
    assert [int(r["feature_ind"]) for r in rows] == list(range(embedded_model.depth(LAYER)))
    assert list(rows[0])[:10] == ["model", "layer", "feature_ind", "importance", "newly_wrong", "newly_right",
                                  "mcnemar_p", "mean_delta_logprob", "mean_kl", "mean_abs_prob_change"]
    for r in rows:
        assert int(r["importance"]) == int(r["newly_wrong"]) - int(r["newly_right"])
        assert 0.0 <= float(r["mcnemar_p"]) <= 1.0
        for column in ("importance", "mean_delta_logprob", "mean_kl", "mean_abs_prob_change"):
            assert float(r[column + "_lo"]) <= float(r[column]) <= float(r[column + "_hi"])
        assert float(r["mean_kl"]) >= 0 and float(r["mean_abs_prob_change"]) >= 0
    summary = summary.summary
    assert summary["accuracy"]["top1"] > 0.9
    assert set(summary["reliability"]["measures"]) == {"importance", "delta-logprob", "kl", "l1"}
    assert json.load(open(tmp_path / "importance.json"))["n_images"] == 300
    assert not (tmp_path / "importance.partial").exists()
    assert sorted(os.listdir(tmp_path)) == ["importance.csv", "importance.images.npz", "importance.json",
                                            "importance.lock", "importance.outcomes.npy", "importance.settings.json"]


def test_most_important_channels_matter_more_than_random_ones(embedded_model, tmp_path):
    """Ablating the 5 top-ranked channels together costs clearly more than 5 random ones."""
    layer = "mixed3a"  # the embedded model's default, like mixed5a: the last mixed block but one
    digits = load_dataset("embedded", embedded_model)
    net = Network(embedded_model, layer)
    out = tmp_path / "importance.csv"
    score_layer(net, digits, ImportanceConfig(top_k=1, batch_size=200), str(out))
    rows = _read(out)
    importance = np.array([int(r["importance"]) for r in rows])
    delta_logprob = np.array([float(r["mean_delta_logprob"]) for r in rows])
    means = channel_means(net, digits, 200)
    images = digits.images(0, len(digits))
    base = topk_correct(net.unablated_logits(images), digits.labels, 1).mean()

    def drop(channels):
        logits = net.imputed_logits(images, list(channels), means[list(channels)])
        return base - topk_correct(logits, digits.labels, 1).mean()

    top5 = np.lexsort((delta_logprob, -importance))[:5]  # most important; ties by log-probability change
    rng = np.random.RandomState(0)
    random_drops = [drop(rng.choice(len(importance), 5, replace=False)) for _ in range(10)]
    print(f"top-5 drop {drop(top5):.3f}, random-5 drops {np.round(random_drops, 3)}")
    assert drop(top5) > 0.05
    assert drop(top5) > 3 * max(np.mean(random_drops), 0.005)


def _cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "inception_tools", *args], capture_output=True, text=True, **kwargs)


def _records_done(partial):
    """Outcome records already computed in a scan's partial folder."""
    try:
        return int((np.load(partial / "store" / "outcomes.npy", mmap_mode="r")["outcome"] != 0).sum())
    except (OSError, ValueError):
        return 0


@pytest.mark.parametrize("method, enough", [
    ("reference", 10 * 400),  # ten channels x 400 images
    ("fast", 80 * 100),  # two image batches of all 80 channels
])
def test_kill_and_resume_gives_the_identical_csv(tmp_path, method, enough):
    progress = _records_done
    common = ["importance", "--model", "embedded", "--layer", LAYER, "--limit", "400", "--batch-size", "50",
              "--method", method]
    whole = tmp_path / "whole.csv"
    assert _cli(*common, "--out", str(whole)).returncode == 0

    resumed = tmp_path / "resumed.csv"
    partial = tmp_path / "resumed.partial"
    proc = subprocess.Popen([sys.executable, "-m", "inception_tools", *common, "--out", str(resumed)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and progress(partial) < enough:
        time.sleep(0.02)
    assert proc.poll() is None, "the scan ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not resumed.exists() and progress(partial) >= enough
    result = _cli(*common, "--out", str(resumed))
    assert result.returncode == 0, result.stderr
    assert resumed.read_text() == whole.read_text()
    for suffix in (".outcomes.npy", ".images.npz"):
        assert (tmp_path / f"resumed{suffix}").read_bytes() == (tmp_path / f"whole{suffix}").read_bytes()


def test_resume_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "i.csv"
    partial = tmp_path / "i.partial"
    partial.mkdir()
    (partial / "settings.json").write_text(json.dumps({"stage": "importance", "config": {"top_k": 5}}))
    result = _cli("importance", "--limit", "50", "--out", str(out))
    assert result.returncode == 2 and "holds an unfinished run made with config.top_k=5 (now None)" in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["i.lock", "i.partial"] and os.listdir(partial) == ["settings.json"]


def _one_error_line(result):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_bad_inputs_give_one_error_line(tmp_path):
    assert "unknown layer" in _one_error_line(_cli("importance", "--layer", "mixed9z"))
    assert "out of range" in _one_error_line(_cli("importance", "--channels", "0-4096"))
    assert "not found" in _one_error_line(_cli("importance", "--model", "InceptionV1", "--model-path",
                                               str(tmp_path / "missing.pb"), "--data", str(tmp_path)))
    corrupt = tmp_path / "corrupt.pb"
    corrupt.write_bytes(os.urandom(4096))
    assert "GraphDef" in _one_error_line(_cli("importance", "--model", "InceptionV1", "--model-path", str(corrupt),
                                           "--data", str(tmp_path)))
    empty = tmp_path / "empty"
    empty.mkdir()
    _one_error_line(_cli("importance", "--data", str(empty)))
    bad_images = tmp_path / "bad"
    bad_images.mkdir()
    (bad_images / "n01440764_tench.JPEG").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    _one_error_line(_cli("importance", "--model", "embedded", "--data", str(bad_images)))
    npz = tmp_path / "labels.npz"
    np.savez(npz, data=np.zeros((2, 12288), np.uint8), labels=np.array([1, 2000]))
    assert "2000" in _one_error_line(_cli("importance", "--model", "embedded", "--data", str(npz)))


def test_verify_flag(tmp_path):
    result = _cli("importance", "--verify", "--limit", "50", "--channels", "0-1", "--out", str(tmp_path / "v.csv"))
    assert result.returncode == 0, result.stderr
    assert "verify:" in result.stdout and ": ok" in result.stdout
