"""The estimated scan (importance/estimated.py) grown until reliable, and over principal components, on the
embedded model: consistency with the exact scans, resume, one-line errors and the command line."""

import csv
import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from inception_tools.errors import UserError
from inception_tools.importance import control_variate as cv

QUIET = dict(top_k=1, batch_size=100, resamples=50, splits=5)


def _digits(model, limit):
    from inception_tools.data import load_dataset

    return load_dataset("embedded", model, limit=limit)


def _score(model, dataset, path, layer="mixed3a", distribute=None, **options):
    from inception_tools.importance import ImportanceConfig, score_layer
    from inception_tools.surgery import Network

    net = Network(model, layer)
    try:
        return score_layer(net, dataset, ImportanceConfig(**QUIET, **options), str(path), report=lambda line: None,
                           distribute=distribute)
    finally:
        net.close()


# --- first order along a direction -------------------------------------------------------------

def _first_order_setup(model, layer, components):
    from inception_tools.importance.directions import principal_directions
    from inception_tools.importance.first_order import FirstOrder
    from inception_tools.importance.outcomes import baseline, channel_means
    from inception_tools.surgery import Network

    ds = _digits(model, 40)
    net = Network(model, layer)
    values = channel_means(net, ds, 40)
    vectors = principal_directions(net, ds, components, 0, 40).vectors
    base = baseline(net, ds, 1, 40)
    return net, ds.images(0, 8), ds.labels[:8], base.real_logp[:8], values, vectors, FirstOrder(net)


def test_first_order_of_a_component_is_its_directional_derivative():
    """On the MLP's dense2 (smooth but for ReLU kinks): g . u (mu - a . u) is the derivative of log p(true)
    along the component's ablation, by central differences. (After mixed3a a max pool over tied zeros makes
    the one-sided derivatives differ on some images, so the check is on the dense layer.)"""
    from inception_tools.importance.directions import project_out
    from inception_tools.importance.stats import true_logprob
    from inception_tools.models import load_model

    net, images, labels, real_logp, values, vectors, graph = _first_order_setup(load_model("embedded-mlp"), "dense2",
                                                                                12)
    try:
        along = graph.contributions(images, labels, real_logp, values, vectors)
        acts = net.layer_activations(images)
        eps = 1e-3

        def logp(moved):
            return true_logprob(net.session.run(net.logits, {net.imputed: moved}), labels)

        for k in (0, 5, 11):
            change = project_out(acts, vectors[:, [k]], values)[0] - acts  # the exact ablation of component k
            slope = (logp(acts + eps * change) - logp(acts - eps * change)) / (2 * eps)
            assert np.abs(slope).max() > 1e-2  # a real slope on some image
            np.testing.assert_allclose(-along["delta-logprob"][k], slope, rtol=2e-2, atol=2e-4)
    finally:
        net.close()


def test_first_order_along_the_standard_basis_is_the_channels_own(embedded_model):
    net, images, labels, real_logp, values, _, graph = _first_order_setup(embedded_model, "mixed3a", 4)
    try:
        channels = graph.contributions(images, labels, real_logp, values)
        identity = graph.contributions(images, labels, real_logp, values, np.eye(len(values)))
        for name in channels:
            np.testing.assert_allclose(identity[name], channels[name], rtol=1e-4, atol=1e-6)
    finally:
        net.close()


# --- principal components with an estimator -----------------------------------------------------

@pytest.fixture(scope="module")
def components(tmp_path_factory):
    """Exact, control-variate (all images exact; 30% exact) and first-order scans of 16 principal components of
    the MLP's dense2 on 200 digits."""
    from inception_tools.models import load_model

    folder = tmp_path_factory.mktemp("components")
    model = load_model("embedded-mlp")
    ds = _digits(model, 200)
    options = {"exact": {}, "all": dict(estimator="control-variate", exact_fraction=1.0),
               "part": dict(estimator="control-variate", exact_fraction=0.3), "first": dict(estimator="first-order")}
    return folder, {name: _score(model, ds, folder / f"{name}.csv", "dense2", basis="pca", components=16, **extra)
                    for name, extra in options.items()}


def test_control_variate_over_every_image_is_the_exact_component_scan(components):
    _, results = components
    for column in ("mean_delta_logprob", "mean_kl", "mean_abs_prob_change", "importance", "variance"):
        np.testing.assert_allclose(results["all"].column(column), results["exact"].column(column), rtol=1e-9,
                                   atol=1e-12)
    assert results["all"].summary["basis"] == results["exact"].summary["basis"]


def test_first_order_tracks_the_exact_ablation_of_small_components_per_image(components):
    folder, results = components
    control = np.load(folder / "first.first_order.npz")
    exact = results["exact"].store
    r = [np.corrcoef(control["delta_logprob"][k], -exact.field("delta_logprob")[k])[0, 1] for k in range(16)]
    # the low-variance components move the layer a little: the first-order change is close to the exact one
    assert np.median(r[8:]) > 0.95
    assert min(r) > 0.3


def test_an_estimated_component_table_says_what_it_is(components):
    folder, results = components
    with open(folder / "part.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 16 and {r["basis"] for r in rows} == {"pca"} and {r["exact_images"] for r in rows} == {"60"}
    assert (folder / "part.basis.npz").is_file() and (folder / "first.basis.npz").is_file()
    exact = results["exact"].column("mean_kl")
    assert spearmanr(results["part"].column("mean_kl"), exact).statistic > 0.8
    lo, hi = results["part"].column("mean_kl_lo"), results["part"].column("mean_kl_hi")
    assert np.mean((lo <= exact) & (exact <= hi)) >= 0.8
    assert results["first"].store is None and results["first"].summary["estimator"]["kind"] == "first-order"


# --- until reliable with the control variate -----------------------------------------------------

@pytest.fixture(scope="module")
def grown(tmp_path_factory, embedded_model):
    """kl scored until reliable at 0.9 on 300 digits: exactly, and with the control variate from 10%."""
    folder = tmp_path_factory.mktemp("grown")
    ds = _digits(embedded_model, 300)
    until = dict(until=0.9, score="kl", chunk=30)
    return folder, ds, {
        "exact": _score(embedded_model, ds, folder / "exact.csv"),
        "exact-until": _score(embedded_model, ds, folder / "exact-until.csv", **until),
        "cv-until": _score(embedded_model, ds, folder / "cv-until.csv", estimator="control-variate",
                           exact_fraction=0.1, **until)}


def test_control_variate_until_reliable_reaches_the_target_with_less_exact_work(grown):
    _, ds, results = grown
    summary = results["cv-until"].summary
    trajectory = summary["until_reliable"]["trajectory"]
    assert trajectory[-1]["projected"] >= 0.9
    assert [step["exact_images"] for step in trajectory] == list(range(30, 30 * len(trajectory) + 1, 30))
    assert summary["estimator"]["exact_images"] == trajectory[-1]["exact_images"] < len(ds)
    assert summary["n_images_used"] == len(ds)
    # the report is the estimator's own: its kl split half is the one the scan stopped on
    assert summary["reliability"]["measures"]["kl"]["spearman_brown"] == pytest.approx(trajectory[-1]["projected"])
    exact_until = results["exact-until"].summary["until_reliable"]["trajectory"][-1]["images"]
    assert summary["estimator"]["exact_images"] <= exact_until


def test_control_variate_until_reliable_agrees_with_the_exact_scan(grown):
    _, _, results = grown
    exact = results["exact"].column("mean_kl")
    estimate = results["cv-until"]
    assert spearmanr(estimate.column("mean_kl"), exact).statistic > 0.9
    lo, hi = estimate.column("mean_kl_lo"), estimate.column("mean_kl_hi")
    assert np.mean((lo <= exact) & (exact <= hi)) >= 0.85


def test_the_exact_images_are_a_prefix_of_the_seeded_nested_order(grown):
    folder, ds, results = grown
    n_exact = results["cv-until"].summary["estimator"]["exact_images"]
    saved = np.load(folder / "cv-until.first_order.npz")
    order = cv.nested_order(len(ds), 0)
    np.testing.assert_array_equal(saved["exact_columns"], order[:n_exact])
    assert list(results["cv-until"].store.ids) == [ds.ids[i] for i in order[:n_exact]]
    from inception_tools.importance.summary import update_reliability

    again = update_reliability(str(folder / "cv-until.csv"), splits=5, resamples=50)
    assert again["measures"]["kl"] == results["cv-until"].summary["reliability"]["measures"]["kl"]


class _Counting:
    """An engine wrapper that records the pending records at each fill, and can fail after some fills."""

    def __init__(self, engine, fail_after=None):
        self.engine, self.fail_after, self.pending = engine, fail_after, []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def fill(self, store, rows, start, stop, progress=None):
        if self.fail_after is not None and len(self.pending) == self.fail_after:
            raise KeyboardInterrupt
        self.pending.append(store.n_pending([store.row_of[c] for c in rows], 0, stop))
        self.engine.fill(store, rows, start, stop, progress)


def test_a_grown_scan_resumes_without_redoing_exact_work(embedded_model, tmp_path):
    ds = _digits(embedded_model, 60)
    until = dict(until=0.99, score="delta-logprob", chunk=10, estimator="control-variate", exact_fraction=0.05)
    first = []
    with pytest.raises(KeyboardInterrupt):
        _score(embedded_model, ds, tmp_path / "t.csv",
               distribute=lambda e: first.append(_Counting(e, fail_after=2)) or first[-1], **until)
    assert (tmp_path / "t.partial").is_dir()
    again = []
    resumed = _score(embedded_model, ds, tmp_path / "t.csv", distribute=lambda e: again.append(_Counting(e))
                     or again[-1], **until)
    assert again[0].pending[:2] == [0, 0] and again[0].pending[2] > 0  # the two steps done before the interruption
    assert len(again[0].pending) > 3
    whole = _score(embedded_model, ds, tmp_path / "u.csv", **until)
    assert (tmp_path / "t.csv").read_text() == (tmp_path / "u.csv").read_text()
    assert resumed.summary["until_reliable"] == whole.summary["until_reliable"]


# --- errors and the command line ----------------------------------------------------------------

def test_first_order_refuses_a_reliability_target_in_one_line(tmp_path, capsys):
    from inception_tools.cli import main
    from inception_tools.importance import ImportanceConfig

    with pytest.raises(UserError, match="ablates no image exactly") as error:
        ImportanceConfig(estimator="first-order", until=0.9)
    assert "\n" not in str(error.value) and "--" not in str(error.value)
    ImportanceConfig(estimator="control-variate", until=0.9, basis="pca")  # accepted
    assert main(["importance", "--layer", "mixed3a", "--limit", "50", "--estimator", "first-order",
                 "--until-reliable", "0.9", "--out", str(tmp_path / "x.csv")]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: the first-order estimator")
    assert not list(tmp_path.iterdir())


def test_cli_control_variate_until_reliable_and_again(tmp_path, capsys):
    from inception_tools.cli import main

    out = str(tmp_path / "u.csv")
    args = ["importance", "--layer", "mixed3a", "--limit", "120", "--top-k", "1", "--estimator", "control-variate",
            "--until-reliable", "0.9", "--score", "kl", "--chunk", "20", "--resamples", "20", "--splits", "4",
            "--out", out]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "until reliable (control-variate): " in printed
    line = [s for s in printed.splitlines() if s.startswith("until reliable: ")][-1]
    assert "images ablated exactly, the control on all 120" in line
    written = {name: (tmp_path / name).stat().st_mtime_ns for name in ("u.csv", "u.json", "u.first_order.npz")}
    assert main(args) == 0  # the same settings again: read back, nothing rewritten
    assert line in capsys.readouterr().out
    assert {name: (tmp_path / name).stat().st_mtime_ns for name in written} == written
    assert main(args[:-2] + ["--exact-fraction", "0.5", "--out", out]) == 2
    error = capsys.readouterr().err
    assert "was made with config.exact_fraction=0.1 (now 0.5); delete it" in error and error.count("\n") == 1


def test_cli_components_with_an_estimator(tmp_path, capsys):
    from inception_tools.cli import main

    out = tmp_path / "p.csv"
    assert main(["importance", "--layer", "mixed3a", "--limit", "60", "--top-k", "1", "--basis", "pca",
                 "--components", "6", "--estimator", "first-order", "--resamples", "20", "--splits", "4",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "principal components 1-6" in printed and "components saved in" in printed
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["estimator"]["kind"] == "first-order" and summary["basis"]["components"] == 6
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and rows[0]["basis"] == "pca" and rows[0]["exact_images"] == "0"
    grown = tmp_path / "g.csv"
    assert main(["importance", "--layer", "mixed3a", "--limit", "60", "--top-k", "1", "--basis", "pca",
                 "--components", "6", "--estimator", "control-variate", "--until-reliable", "0.99", "--score", "kl",
                 "--chunk", "20", "--resamples", "20", "--splits", "4", "--out", str(grown)]) == 0
    summary = json.loads(grown.with_suffix(".json").read_text())
    steps = [step["exact_images"] for step in summary["until_reliable"]["trajectory"]]
    assert steps[0] == 6 and steps == sorted(steps) and summary["estimator"]["exact_images"] == steps[-1]
    assert summary["basis"]["components"] == 6 and (tmp_path / "g.basis.npz").is_file()
