"""Reliability of rankings: the estimators on synthetic outcomes of known means, and on real scans."""

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import spearmanr

from inception_tools.importance import reliability as rel


def _sample(means, n, rng, noise=1.0):
    """Per-image contributions [channels, n]: each channel's true mean plus unit-variance noise."""
    return means[:, None] + noise * rng.standard_normal((len(means), n))


def _independent_correlation(means, n, rng, repeats=30):
    """Measured: mean Spearman rho between the rankings of two independent n-image samples."""
    return np.mean([spearmanr(_sample(means, n, rng).mean(1), _sample(means, n, rng).mean(1)).statistic
                    for _ in range(repeats)])


@pytest.mark.parametrize("spread", [0.05, 0.1, 0.2])
def test_spearman_brown_from_half_predicts_two_independent_samples(spread):
    """From N images, the split-half projection predicts the correlation of two independent N-samples."""
    rng = np.random.default_rng(1)
    means = spread * rng.standard_normal(200)
    n = 400
    predicted = np.mean([rel.split_half(_sample(means, n, rng), splits=20, seed=s)["spearman_brown"]
                         for s in range(10)])
    measured = _independent_correlation(means, n, rng)
    assert 0.1 < measured < 0.95  # the case is informative
    assert abs(predicted - measured) < 0.05, (predicted, measured)


def test_images_needed_reaches_the_target():
    rng = np.random.default_rng(2)
    means = 0.1 * rng.standard_normal(200)
    half = rel.split_half(_sample(means, 200, rng), splits=20)
    needed = int(round(half["images_for_0.9"]))
    assert 200 < needed < 20000
    assert abs(_independent_correlation(means, needed, rng, repeats=10) - 0.9) < 0.05


def test_spearman_brown_and_images_needed_formulas():
    assert rel.spearman_brown(0.5) == pytest.approx(2 / 3)
    assert rel.spearman_brown(0.5, factor=4) == pytest.approx(0.8)
    # r = 0.5 at n images -> 0.9 needs m = 0.9 * 0.5 / (0.5 * 0.1) = 9 times as many
    assert rel.images_needed(0.5, 100) == pytest.approx(900)
    assert rel.images_needed(0.0, 100) == float("inf")


def test_bootstrap_intervals_cover_the_true_means():
    rng = np.random.default_rng(3)
    means = rng.standard_normal(400)
    contrib = _sample(means, 300, rng)
    lo, hi = rel.intervals(rel.bootstrap_means(contrib, resamples=500, seed=0))
    coverage = np.mean((lo <= means) & (means <= hi))
    assert 0.9 < coverage < 0.99, coverage
    again = rel.intervals(rel.bootstrap_means(contrib, resamples=500, seed=0))
    assert (again[0] == lo).all()  # seeded


def test_group_stability_separates_signal_from_noise():
    rng = np.random.default_rng(4)
    strong = np.r_[np.full(10, 5.0), np.zeros(30), np.full(10, -5.0)]
    contrib = _sample(strong, 100, rng)
    kept = rel.group_stability(contrib.mean(1), rel.bootstrap_means(contrib, 200), top=10)
    assert kept["top"] == 1.0
    noise = _sample(np.zeros(400), 100, rng)
    kept = rel.group_stability(noise.mean(1), rel.bootstrap_means(noise, 200), top=40)
    assert kept["top"] < 0.6  # 40 of 400 by chance alone would keep 10%


def test_warning_names_a_reliable_measure():
    report = {"measures": {
        "importance": {"rho": 0.01, "n_images": 1000, "images_for_0.9": 9e5},
        "kl": {"rho": 0.62, "n_images": 1000, "images_for_0.9": 2700},
    }}
    line = rel.warning(report, "importance")
    assert line.startswith("warning: ") and "kl" in line and "0.62" in line and "900,000" in line
    assert rel.warning(report, "kl") is None


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "inception_tools", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    out = tmp_path_factory.mktemp("scan") / "importance.csv"
    result = _cli("importance", "--layer", "mixed4a", "--limit", "300", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_every_scan_prints_and_records_its_reliability(scan):
    out, stdout = scan
    lines = [line for line in stdout.splitlines() if line.startswith("reliability: ")]
    assert [line.split()[1] for line in lines] == ["importance:", "delta-logprob:", "kl:", "l1:"]
    recorded = json.loads(out.with_suffix(".json").read_text())["reliability"]
    assert recorded["n_images"] == 300 and recorded["splits"] == 20
    assert recorded["measures"]["kl"]["rho"] > recorded["measures"]["importance"]["rho"]


def test_reliability_command_reads_the_outcomes_and_agrees(scan):
    out, _ = scan
    before = json.loads(out.with_suffix(".json").read_text())["reliability"]
    result = _cli("reliability", "--importance", str(out))
    assert result.returncode == 0, result.stderr
    assert "importance" in result.stdout and "images for 0.9" in result.stdout
    after = json.loads(out.with_suffix(".json").read_text())["reliability"]
    assert after == before  # same seeds, same outcomes: the same figures


def test_reliability_without_outcomes_is_one_error_line(tmp_path):
    csv = tmp_path / "importance.csv"
    csv.write_text("model,layer,feature_ind,importance\nembedded,mixed3a,0,1\n")
    result = _cli("reliability", "--importance", str(csv))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "not found" in result.stderr


def test_impossible_values_are_clamped_and_too_few_is_said():
    assert rel.spearman_brown(-0.5) == 0.0  # before: -2.0
    assert rel.spearman_brown(-0.35) == 0.0  # before: -1.08
    assert rel.spearman_brown(1.0) == 1.0
    assert rel.images_needed(1.0, 50) == rel.MIN_IMAGES  # before: 0, "~0 images for 0.9"
    rng = np.random.default_rng(0)
    half = rel.split_half(rng.standard_normal((2, 40)), splits=1)
    assert any("too few channels (2)" in note for note in half["notes"]) and "one split: no sd" in half["notes"]
    assert half["rho_sd"] is None and 0 <= half["spearman_brown"] <= 1
    report = {"splits": 1, "resamples": 10, "n_images": 40, "n_channels": 2, "group_size": 1,
              "measures": {"kl": {**half, "overlap": {}}}}
    text = rel.table(report)
    assert "nan" not in text.lower() and "n/a" in text and "note: too few channels" in text
    assert "note: fewer than 2 channels" not in text
    line = rel.summary_line(report, "kl")
    assert "sd n/a" in line and "too few channels" in line


def test_group_size_must_fit_twice():
    assert rel.check_group_size(None, 96) == 24 and rel.check_group_size(48, 96) == 48
    for bad in (0, 49, 500, -1, 2.5, True):
        with pytest.raises(Exception, match="group size must be an integer from 1 to 48"):
            rel.check_group_size(bad, 96)
