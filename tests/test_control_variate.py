"""Control variates (importance/control_variate.py) on synthetic outcomes with known means, and the
estimated scan (importance/estimated.py, first_order.py) on the embedded model."""

import csv
import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from inception_tools.importance import control_variate as cv
from inception_tools.errors import UserError


def synthetic(n_images=4000, seed=0):
    """Exact contributions y [3, N] with known channel means, and a control x that follows y per image
    but is biased (scaled, shifted, with its own noise)."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(3, n_images))
    y = np.array([[1.0], [0.2], [-0.5]]) + latent * np.array([[1.0], [2.0], [0.5]])
    x = 3.0 * latent + 5.0 + 0.2 * rng.normal(size=(3, n_images))
    return y, x


def test_all_images_exact_gives_the_exact_mean():
    y, x = synthetic(500)
    fit = cv.fit(y, x, np.arange(500))
    np.testing.assert_allclose(fit["mean"], y.mean(axis=1), atol=1e-12)


def test_a_biased_control_leaves_the_estimate_consistent_and_shrinks_its_variance():
    y, x = synthetic()
    target = y.mean(axis=1)
    with_cv, without = [], []
    for seed in range(200):
        columns = cv.subsample(y.shape[1], 0.05, seed)
        with_cv.append(cv.fit(y[:, columns], x, columns)["mean"])
        without.append(y[:, columns].mean(axis=1))
    with_cv, without = np.array(with_cv), np.array(without)
    spread = without.std(axis=0)
    # Unbiased for the all-image mean (within 3 standard errors of 200 draws), whatever the control's bias.
    assert np.all(np.abs(with_cv.mean(axis=0) - target) < 3 * with_cv.std(axis=0) / np.sqrt(200) + 1e-3)
    # Variance shrinks by about 1 - r^2 (r ~ 0.998 here): at least ten times smaller standard deviation.
    assert np.all(with_cv.std(axis=0) < spread / 10)
    fit = cv.fit(y[:, cv.subsample(y.shape[1], 0.05, 0)], x, cv.subsample(y.shape[1], 0.05, 0))
    assert np.all(fit["r"] > 0.99) and np.all(fit["n_eff"] > 10 * 200)


def test_an_unrelated_control_costs_little():
    y, _ = synthetic()
    noise = np.random.default_rng(9).normal(size=y.shape)
    columns = cv.subsample(y.shape[1], 0.1, 1)
    fit = cv.fit(y[:, columns], noise, columns)
    assert np.all(np.abs(fit["r"]) < 0.15)
    np.testing.assert_allclose(fit["n_eff"], len(columns), rtol=0.05)


def test_estimator_intervals_cover_and_split_half_is_high_for_separated_means():
    y, x = synthetic()
    columns = cv.subsample(y.shape[1], 0.1, 2)
    estimator = cv.Estimator(y[:, columns], x, columns)
    draws = estimator.resampled(200, seed=3)
    lo, hi = np.percentile(draws, 2.5, axis=0), np.percentile(draws, 97.5, axis=0)
    assert np.all((lo < y.mean(axis=1)) & (y.mean(axis=1) < hi))
    assert estimator.split_half(splits=10)["rho"] == pytest.approx(1.0)
    control_only = cv.Estimator(None, x, np.arange(0))
    np.testing.assert_allclose(control_only.means(), x.mean(axis=1))


def test_subsample_is_seeded_sorted_and_at_least_four():
    assert cv.subsample(100, 0.1, 5).tolist() == cv.subsample(100, 0.1, 5).tolist()
    assert len(cv.subsample(100, 0.001, 0)) == 4 and len(cv.subsample(100, 1.0, 0)) == 100
    assert np.all(np.diff(cv.subsample(1000, 0.2, 1)) > 0)


# --- on the embedded model --------------------------------------------------------------------

def test_first_order_equals_the_directional_derivative(embedded_model):
    from inception_tools.data import load_dataset
    from inception_tools.importance.first_order import FirstOrder
    from inception_tools.importance.outcomes import baseline, channel_means
    from inception_tools.importance.stats import true_logprob
    from inception_tools.surgery import Network

    ds = load_dataset("embedded", embedded_model, limit=8)
    net = Network(embedded_model, "mixed3a")
    try:
        values = channel_means(net, ds, 8)
        base = baseline(net, ds, 1, 8)
        images = ds.images(0, 8)
        surrogate = FirstOrder(net).contributions(images, ds.labels, base.real_logp, values)
        acts = net.layer_activations(images)
        eps = 1e-3
        for c in (3, 40):
            moved = acts.copy()
            moved[..., c] += eps * (values[c] - acts[..., c])
            after = true_logprob(net.session.run(net.logits, {net.imputed: moved}), ds.labels)
            slope = (after - true_logprob(net.unablated_logits(images), ds.labels)) / eps
            np.testing.assert_allclose(-surrogate["delta-logprob"][c], slope, rtol=2e-2, atol=2e-3)
        assert np.all(surrogate["kl"] >= 0) and np.all(surrogate["l1"] >= 0)
    finally:
        net.close()


@pytest.fixture(scope="module")
def scans(tmp_path_factory, embedded_model):
    """An exact scan and two estimated ones (all images exact; 20% exact) of mixed3a on 200 digits."""
    from inception_tools.data import load_dataset
    from inception_tools.importance import ImportanceConfig, score_layer
    from inception_tools.surgery import Network

    folder = tmp_path_factory.mktemp("estimated")
    ds = load_dataset("embedded", embedded_model, limit=200)
    net = Network(embedded_model, "mixed3a")
    results = {}
    try:
        for name, options in {"exact": {}, "all": dict(estimator="control-variate", exact_fraction=1.0),
                              "part": dict(estimator="control-variate", exact_fraction=0.2),
                              "first": dict(estimator="first-order")}.items():
            config = ImportanceConfig(top_k=1, batch_size=100, resamples=50, splits=5, **options)
            results[name] = score_layer(net, ds, config, str(folder / f"{name}.csv"), report=lambda line: None)
    finally:
        net.close()
    return folder, results


def test_control_variate_with_every_image_exact_is_the_exact_scan(scans):
    _, results = scans
    for column in ("mean_delta_logprob", "mean_kl", "mean_abs_prob_change"):
        np.testing.assert_allclose(results["all"].column(column), results["exact"].column(column), rtol=1e-9)
    np.testing.assert_allclose(results["all"].column("importance"), results["exact"].column("importance"), atol=1e-9)


def test_an_estimated_table_says_how_it_was_made(scans):
    folder, results = scans
    with open(folder / "part.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 96 and {r["estimator"] for r in rows} == {"control-variate"} and rows[0]["exact_images"] == "40"
    r = np.array([float(row["r_mean_kl"]) for row in rows])
    assert np.nanmedian(r) > 0.5
    summary = json.loads((folder / "part.json").read_text())
    assert summary["estimator"]["kind"] == "control-variate" and summary["estimator"]["exact_images"] == 40
    assert set(summary["reliability"]["measures"]) == {"importance", "delta-logprob", "kl", "l1"}
    assert (folder / "part.first_order.npz").is_file() and results["first"].store is None
    exact = results["exact"].column("mean_kl")
    assert spearmanr(results["part"].column("mean_kl"), exact).statistic > 0.9


def test_bad_estimator_settings_are_one_line(tmp_path, capsys):
    from inception_tools.cli import main
    from inception_tools.importance import ImportanceConfig

    with pytest.raises(UserError, match="exact_fraction must lie in"):
        ImportanceConfig(estimator="control-variate", exact_fraction=0.0)
    with pytest.raises(UserError, match="the first-order estimator ablates no image exactly"):
        ImportanceConfig(estimator="first-order", until=0.9)
    assert main(["importance", "--layer", "mixed3a", "--limit", "50", "--estimator", "control-variate",
                 "--exact-fraction", "1.5", "--out", str(tmp_path / "x.csv")]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: exact_fraction must lie in")
    assert not list(tmp_path.iterdir())


def test_reliability_of_an_estimated_table_is_recomputed_with_its_estimator(scans):
    from inception_tools.importance.summary import update_reliability

    folder, results = scans
    for name in ("part", "first"):
        again = update_reliability(str(folder / f"{name}.csv"), splits=5, resamples=50)
        kept = results[name].summary["reliability"]["measures"]["kl"]["rho"]
        assert again["measures"]["kl"]["rho"] == pytest.approx(kept)
