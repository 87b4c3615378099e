"""The basis study on the embedded model: PCA, basis ablation, strips, errors."""

import csv
import os
import numpy as np
import pytest

from inception_tools.basis import ablation
from inception_tools.activations.pca import make_basis, neuron_basis, pca_basis
from inception_tools.activations.sample import sample_activations
from inception_tools.basis.steps import spread
from inception_tools.basis.strip import line_points, nearest_patches
from inception_tools.cli import main
from inception_tools.data import load_dataset
from inception_tools.errors import UserError
from inception_tools.importance.outcomes import channel_means
from inception_tools.importance.run import engine_for, new_store
from inception_tools.surgery import Network


@pytest.fixture(scope="module")
def digits(embedded_model):
    return spread(load_dataset("embedded", embedded_model), 200)  # every class (the split is sorted by class)


@pytest.fixture(scope="module")
def net(embedded_model):
    return Network(embedded_model, "mixed3a")


@pytest.fixture(scope="module")
def sample(net, digits):
    return sample_activations(net, digits, seed=3, batch_size=64)


@pytest.fixture(scope="module")
def bases(sample):
    return {"pca": pca_basis(sample.layer), "neuron": neuron_basis(sample.layer)}


def test_sample_positions_are_seeded_and_mean_is_the_importance_mean(net, digits, sample):
    again = sample_activations(net, digits, seed=3, batch_size=64)
    np.testing.assert_array_equal(again.positions, sample.positions)
    other = sample_activations(net, digits, seed=4, batch_size=64)
    assert (other.positions != sample.positions).any()
    acts = net.layer_activations(digits.images(0, 5))
    for i, (y, x) in enumerate(sample.positions[:5]):
        np.testing.assert_array_equal(sample.layer[i], acts[i, y, x])
    assert sample.pre_relu is not None and (sample.pre_relu < 0).any() and (sample.layer >= 0).all()
    np.testing.assert_allclose(sample.mean, channel_means(net, digits, 64), rtol=1e-12)


def test_pca_orthonormal_and_explained_variance_equals_numpy(sample, bases):
    pcs = bases["pca"]
    d = sample.layer.shape[1]
    np.testing.assert_allclose(pcs.vectors.T @ pcs.vectors, np.eye(d), atol=1e-10)
    eig = np.sort(np.linalg.eigvalsh(np.cov(sample.layer.astype(np.float64), rowvar=False)))[::-1]
    np.testing.assert_allclose(pcs.variances, eig, rtol=1e-6, atol=1e-9 * eig[0])
    np.testing.assert_allclose(pcs.explained(), np.cumsum(eig) / eig.sum(), atol=1e-9)
    neuron_var = np.sort(sample.layer.astype(np.float64).var(axis=0, ddof=1))[::-1]
    np.testing.assert_allclose(bases["neuron"].explained(), np.cumsum(neuron_var) / neuron_var.sum(), atol=1e-12)
    assert (pcs.explained() >= bases["neuron"].explained() - 1e-12).all()  # PCA is optimal for every k


def test_ablating_every_vector_sets_every_position_to_the_mean(net, digits, sample, bases):
    d = bases["pca"].dim
    variants = [ablation.Variant("pca", "top", d), ablation.Variant("neuron", "bottom", d)]
    ablator = ablation.Ablator(bases, variants, sample.mean)
    acts = net.layer_activations(digits.images(0, 4))
    for i in range(2):
        out = ablator.apply(acts, i)
        np.testing.assert_allclose(out, np.broadcast_to(sample.mean, acts.shape), atol=1e-4)
    top = ablation.Ablator(bases, [ablation.Variant("pca", "top", 5)], sample.mean).apply(acts, 0)
    u = bases["pca"].vectors
    coords = (top - sample.mean) @ u
    np.testing.assert_allclose(coords[..., :5], 0, atol=1e-4)  # ablated coordinates at their mean
    np.testing.assert_allclose(coords[..., 5:], ((acts - sample.mean) @ u)[..., 5:], atol=1e-4)


def test_single_neuron_equals_importance_mean_ablation(net, digits, sample, bases, tmp_path):
    values = channel_means(net, digits, 64)
    variants = [ablation.Variant("neuron", "top", 1), ablation.Variant("neuron", "bottom", 1)]
    outcomes = ablation.batched_outcomes(net, digits, ablation.Ablator(bases, variants, sample.mean), 1, batch_size=50)
    channels = [int(bases["neuron"].vectors[:, 0].argmax()), int(bases["neuron"].vectors[:, -1].argmax())]
    store, _ = new_store(str(tmp_path), net, digits, 1, 50)
    engine_for("reference", net, digits, values, 1, 50).fill(store, channels, 0, len(digits))
    for i, channel in enumerate(channels):
        row = store.row_of[channel]
        np.testing.assert_array_equal(outcomes.top1[i], store.correct[row])
        logprob = store.base_logprob + store.field("delta_logprob")[row]
        np.testing.assert_allclose(outcomes.logprob[i], logprob, atol=1e-5)


def test_batched_equals_naive_partial_run(net, digits, sample, bases, tmp_path):
    ks = ablation.log_grid(bases["pca"].dim)[:5] + [bases["pca"].dim]
    variants = ablation.make_variants(bases, ks)
    small = spread(digits, 60)
    ablator = ablation.Ablator(bases, variants, sample.mean)
    naive = ablation.naive_outcomes(net, small, ablator, 3, batch_size=20)
    batched = ablation.batched_outcomes(net, small, ablator, 3, batch_size=16, group=5, workdir=str(tmp_path / "w"))
    np.testing.assert_array_equal(batched.top1, naive.top1)
    np.testing.assert_array_equal(batched.topk, naive.topk)
    np.testing.assert_allclose(batched.logprob, naive.logprob, atol=1e-5)
    resumed = ablation.batched_outcomes(net, small, ablator, 3, batch_size=16, group=5,
                                        workdir=str(tmp_path / "w"))  # all done: nothing rerun
    np.testing.assert_array_equal(resumed.logprob, batched.logprob)
    assert batched.top1[0].mean() > 0.9 and batched.top1[-1].mean() < 0.5  # unablated vs all ablated


def test_strip_nearest_patches_equal_brute_force(net, digits, sample, bases):
    ts, points = line_points(bases["pca"], sample.layer, 0, 5)
    t = (sample.layer - bases["pca"].center) @ bases["pca"].vectors[:, 0]
    assert ts[0] == pytest.approx(t.min()) and ts[-1] == pytest.approx(t.max())
    rows, positions, dists = nearest_patches(net, digits, points, 3, batch_size=64)
    acts = net.layer_activations(digits.images(0, len(digits))).astype(np.float64)
    for j, x in enumerate(points):
        d = np.sqrt(((acts - x) ** 2).sum(-1))  # [N, H, W]
        best = d.reshape(len(d), -1).min(1)
        expect = np.argsort(best, kind="stable")[:3]
        np.testing.assert_array_equal(rows[j], expect)
        np.testing.assert_allclose(dists[j], best[expect], rtol=1e-6)
        for n, (y, xx) in zip(rows[j], positions[j]):
            assert d[n, y, xx] == pytest.approx(best[n])


def test_errors_are_one_line(sample, bases):
    with pytest.raises(UserError, match="larger than the layer's d = 96"):
        ablation.make_variants(bases, [0, 1, 97])
    with pytest.raises(UserError, match="too few images"):
        pca_basis(sample.layer[:50])
    with pytest.raises(UserError, match="unknown basis 'ica'"):
        make_basis("ica", sample.layer)
    with pytest.raises(UserError, match="keeps only 10"):
        ablation.make_variants({"pca": pca_basis(sample.layer, 10)}, [0, 16])


def _cli(capsys, *args):
    code = main(["basis", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args, message", [
    (["--limit", "60"], "too few images: 60 sampled vectors give at most 59 principal components, 96 asked"),
    (["--basis", "ica"], "unknown basis 'ica'"),
    (["--components", "97"], "97 components asked, but the layer has d = 96"),
    (["--vectors", "0"], "numbered from 1"),
    (["--ks", "1,8,97"], "k = 97 is larger than the layer's d = 96"),
])
def test_cli_errors(tmp_path, capsys, args, message):
    code, _, err = _cli(capsys, *args, "--out", str(tmp_path / "b"))
    lines = [line for line in err.splitlines() if "img/s" not in line]  # progress bars of work done before
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert not os.path.exists(tmp_path / "b")


@pytest.mark.slow
def test_cli_writes_the_study(tmp_path, capsys):
    out = str(tmp_path / "b")
    code, stdout, err = _cli(capsys, "--limit", "300", "--ablation-images", "50", "--vectors", "1",
                             "--strip-points", "4", "--strip-k", "2", "--out", out)
    assert code == 0, err
    assert "80%:" in stdout
    with open(os.path.join(out, "explained_variance.csv")) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["k", "pcs", "neurons"] and len(rows) == 96
    assert float(rows[-1]["pcs"]) == pytest.approx(1) and float(rows[-1]["neurons"]) == pytest.approx(1)
    for name in ("ablation.csv", "ablation.png", "explained_variance.png", "explained_variance_pre_relu.csv",
                 "pca.npz", "strips/pca_0001.png", "strips/pca_0001.json"):
        assert os.path.isfile(os.path.join(out, name)), name
    before = os.path.getmtime(os.path.join(out, "pca.npz"))
    code, _, err = _cli(capsys, "--limit", "300", "--seed", "1", "--out", out)  # other settings: refused
    assert code == 2 and "config.seed=0 (now 1)" in err
    assert os.path.getmtime(os.path.join(out, "pca.npz")) == before
    for name in ("index.html", "pca_0001.html"):
        assert os.path.isfile(os.path.join(out, "gallery", name)), name


def test_an_interrupted_ablation_resumes_after_its_last_batch(net, digits, sample, bases, tmp_path):
    variants = ablation.make_variants(bases, [0, 2])
    small = spread(digits, 50)
    args = (net, small, ablation.Ablator(bases, variants, sample.mean), 3)
    whole = ablation.batched_outcomes(*args, batch_size=16)

    def first_batch_then_interrupt(job, dataset, batches):
        yield batches[0], job(net, dataset, *batches[0])
        raise KeyboardInterrupt

    workdir = str(tmp_path / "w")
    with pytest.raises(KeyboardInterrupt):
        ablation.batched_outcomes(*args, batch_size=16, workdir=workdir,
                                  distribute=first_batch_then_interrupt)
    asked = []

    def here(job, dataset, batches):  # the one-process loop, recording what it is asked for
        asked.append(batches)
        return ((batch, job(net, dataset, *batch)) for batch in batches)

    resumed = ablation.batched_outcomes(*args, batch_size=16, workdir=workdir, distribute=here)
    assert asked == [[(16, 32), (32, 48), (48, 50)]]
    assert resumed.logprob.tobytes() == whole.logprob.tobytes() and (resumed.top1 == whole.top1).all()
