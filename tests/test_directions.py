"""Principal components scored as channels (importance/directions.py, ``importance --basis pca``)."""

import csv
import json

import numpy as np
import pytest
from browser import chromium, chromium_missing_reason

from inception_tools.activations.pca import load_basis, pca_basis
from inception_tools.activations.sample import sample_activations
from inception_tools.cli import main
from inception_tools.data import load_dataset
from inception_tools.importance.directions import (DirectionEngine, ReferenceDirectionEngine,
                                                   principal_directions, project_out)
from inception_tools.importance.outcomes import channel_means
from inception_tools.importance.run import engine_for, new_store
from inception_tools.importance.store import PENDING
from inception_tools.importance.table import COLUMNS, DIRECTION_COLUMNS
from inception_tools.surgery import Network

LAYER = "mixed3a"


@pytest.fixture(scope="module")
def digits(embedded_model):
    return load_dataset("embedded", embedded_model, limit=96)


@pytest.fixture(scope="module")
def net(embedded_model):
    network = Network(embedded_model, LAYER)
    yield network
    network.close()


def _fill(engine, net, dataset, rows, folder, n_rows):
    folder.mkdir()
    store, _ = new_store(str(folder), net, dataset, 1, 32, n_rows)
    engine.fill(store, rows, 0, len(dataset))
    assert not (store.field("outcome")[rows] == PENDING).any()
    return store


def _assert_same(a, b, rows_a, rows_b, atol=1e-5):
    np.testing.assert_array_equal(a.field("outcome")[rows_a], b.field("outcome")[rows_b])
    for field in ("delta_logprob", "kl", "l1"):
        np.testing.assert_allclose(a.field(field)[rows_a], b.field(field)[rows_b], rtol=0, atol=atol)


def test_project_out_sets_the_coordinate_and_keeps_the_rest():
    rng = np.random.default_rng(0)
    acts = rng.normal(size=(2, 3, 3, 6)).astype(np.float32)
    vectors = np.linalg.qr(rng.normal(size=(6, 2)))[0].astype(np.float32)
    center = rng.normal(size=6).astype(np.float32)
    ablated = project_out(acts, vectors, center)
    assert ablated.shape == (2,) + acts.shape
    for g in range(2):
        u = vectors[:, g]
        np.testing.assert_allclose(ablated[g] @ u, np.full(acts.shape[:-1], center @ u), atol=1e-5)
        change = ablated[g] - acts
        np.testing.assert_allclose(change - (change @ u)[..., None] * u, 0, atol=1e-5)  # only along u


def test_a_direction_along_a_channel_is_that_channels_mean_ablation(embedded_model, net, digits, tmp_path):
    channels = [3, 17, 40, 95]
    means = channel_means(net, digits, 32)
    channel_store = _fill(engine_for("fast", net, digits, means, 1, 32), net, digits, channels, tmp_path / "channels",
                          None)
    vectors = np.eye(embedded_model.depth(LAYER))[:, channels]
    direction_store = _fill(DirectionEngine(net, digits, vectors, means, 1, 32), net, digits, list(range(4)),
                            tmp_path / "directions", 4)
    _assert_same(channel_store, direction_store, channels, list(range(4)))


def test_fast_and_reference_engines_agree_on_principal_components(net, digits, tmp_path):
    pcs = principal_directions(net, digits, 6, seed=1)
    means = channel_means(net, digits, 32)
    rows = list(range(6))
    fast = _fill(DirectionEngine(net, digits, pcs.vectors, means, 1, 32, group=2), net, digits, rows,
                 tmp_path / "fast", 6)
    reference = _fill(ReferenceDirectionEngine(net, digits, pcs.vectors, means, 1, 32), net, digits, rows,
                      tmp_path / "reference", 6)
    _assert_same(fast, reference, rows, rows)
    assert fast.field("kl")[rows].mean(axis=1).max() > 0  # the components do change the output


def _run(out, *extra, limit="96"):
    return main(["importance", "--basis", "pca", "--limit", limit, "--batch-size", "16", "--out", str(out), *extra])


def test_cli_scores_principal_components_like_channels(net, digits, tmp_path, capsys):
    out = tmp_path / "importance.csv"
    assert _run(out, "--components", "5", "--basis-seed", "3") == 0
    printed = capsys.readouterr().out
    assert "reliability: kl: split-half rho" in printed and "principal components 1-5" in printed
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == COLUMNS + DIRECTION_COLUMNS
    assert [int(r["feature_ind"]) for r in rows] == list(range(5)) and {r["basis"] for r in rows} == {"pca"}
    assert all(r["importance_lo"] and r["mean_kl_hi"] for r in rows)
    variances = [float(r["variance"]) for r in rows]
    assert variances == sorted(variances, reverse=True)
    summary = json.load(open(tmp_path / "importance.json"))
    assert summary["basis"]["components"] == 5 and summary["basis"]["seed"] == 3
    assert set(summary["reliability"]["measures"]) == {"importance", "delta-logprob", "kl", "l1"}
    # The same components as `inception-tools basis` computes from the same data, seed and batch size.
    saved = load_basis(tmp_path / "importance.basis.npz")
    expected = pca_basis(sample_activations(net, digits, seed=3, batch_size=16).layer, 5)
    np.testing.assert_allclose(saved.vectors, expected.vectors, atol=1e-6)
    # The channel-only commands refuse it in one line.
    assert main(["select", "--importance", str(out), "--out", str(tmp_path / "groups.csv")]) == 2
    assert "ranks the pca directions" in capsys.readouterr().err


@pytest.mark.parametrize("extra, limit, message", [
    (["--components", "97"], "96", "97 components asked, but the layer has d = 96"),
    (["--components", "40"], "20", "too few images: 20 sampled vectors give at most 19 principal components"),
    (["--channels", "0-3"], "96", "with --basis choose the principal components with --components"),
])
def test_bad_component_requests_are_one_line(tmp_path, capsys, extra, limit, message):
    assert _run(tmp_path / "importance.csv", *extra, limit=limit) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "importance.csv").exists()


def test_unknown_basis_and_components_without_basis_are_one_line(tmp_path, capsys):
    assert main(["importance", "--basis", "ica", "--out", str(tmp_path / "i.csv")]) == 2
    assert "unknown basis 'ica'; use pca" in capsys.readouterr().err
    assert main(["importance", "--components", "4", "--out", str(tmp_path / "i.csv")]) == 2
    assert "--components needs --basis pca" in capsys.readouterr().err


def test_an_interrupted_scan_resumes_to_the_same_files(tmp_path, monkeypatch):
    whole, resumed = tmp_path / "whole" / "importance.csv", tmp_path / "resumed" / "importance.csv"
    assert _run(whole, "--components", "4", limit="64") == 0

    calls = {"n": 0}
    original = DirectionEngine.variant_logits

    def dies_on_the_third_run(self, batch, rows):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, batch, rows)

    monkeypatch.setattr(DirectionEngine, "variant_logits", dies_on_the_third_run)
    assert _run(resumed, "--components", "4", limit="64") == 130
    assert calls["n"] == 3
    monkeypatch.setattr(DirectionEngine, "variant_logits", original)
    assert _run(resumed, "--components", "4", limit="64") == 0
    for name in ("importance.csv", "importance.outcomes.npy"):
        assert (whole.parent / name).read_bytes() == (resumed.parent / name).read_bytes(), name
    np.testing.assert_array_equal(load_basis(whole.parent / "importance.basis.npz").vectors,
                                  load_basis(resumed.parent / "importance.basis.npz").vectors)


BASIS_ARGS = ["basis", "--limit", "120", "--batch-size", "16", "--no-ablation", "--vectors", "1-3",
              "--strip-points", "3", "--strip-k", "2", "--score", "kl"]


@pytest.fixture(scope="module")
def ranked_gallery(tmp_path_factory):
    """A basis gallery of PCs 1-3 ranked by the KL of an ``importance --basis pca`` scan; the KL order."""
    root = tmp_path_factory.mktemp("ranked")
    scored = root / "pcs" / "importance.csv"
    assert _run(scored, "--components", "4", limit="120") == 0
    kl = {int(r["feature_ind"]): float(r["mean_kl"]) for r in csv.DictReader(open(scored))}
    assert main([*BASIS_ARGS, "--importance", str(scored), "--out", str(root / "basis")]) == 0
    return root, sorted(range(3), key=lambda v: -kl[v])


def test_the_basis_gallery_ranks_components_by_their_importance(ranked_gallery, capsys):
    root, by_kl = ranked_gallery
    index = (root / "basis" / "gallery" / "index.html").read_text()
    assert "pca basis by kl (from importance.csv)" in index
    shown = [index.index(f'href="pca_{v + 1:04d}.html"') for v in range(3)]
    assert sorted(range(3), key=lambda v: shown[v]) == by_kl
    capsys.readouterr()
    # Components from another seed are not these: refused in one line, before the long work.
    scored = root / "pcs" / "importance.csv"
    assert main([*BASIS_ARGS, "--importance", str(scored), "--seed", "1", "--out", str(root / "other")]) == 2
    assert "scored other principal components than this basis" in capsys.readouterr().err


@pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason()))
def test_the_ranked_basis_gallery_in_a_browser_from_disk(ranked_gallery):
    root, by_kl = ranked_gallery
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 2000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"file://{root / 'basis' / 'gallery' / 'index.html'}")
        page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        variance_ranks = page.eval_on_selector_all("tbody tr", "rows => rows.map(r => r.cells[2].innerText)")
        assert [int(v) for v in variance_ranks] == [v + 1 for v in by_kl]
        page.click("tbody tr:first-child a")
        page.wait_for_url(f"**/pca_{by_kl[0] + 1:04d}.html")
        page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        assert "Rank by kl" in page.inner_text("table.stats") and errors == []
