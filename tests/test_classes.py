"""Class-conditional activation statistics: brute-force agreement, filtering, matrices, resume, errors, CLI."""

import json

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.classes import ClassesConfig, class_study
from inception_tools.classes.collect import CHECKPOINT, collect
from inception_tools.runner import Checkpoint
from inception_tools.classes.compare import cosine_similarity, jaccard_similarity, layer_summary, matrices, relative_distance
from inception_tools.classes.stats import ClassAccumulator, unit_values
from inception_tools.cli import main
from inception_tools.data import load_dataset
from inception_tools.errors import UserError
from inception_tools.models import load_model

tf1 = tf.compat.v1
DIGITS = list(range(10))


@pytest.fixture(scope="module")
def mlp():
    return load_model("embedded-mlp")


@pytest.fixture(scope="module")
def conv():
    return load_model("embedded")


def brute_force(model, dataset, layers):
    """Activations of ``layers`` and probabilities from the raw frozen graph, images fed in the value range."""
    lo, hi = model.value_range
    with tf.Graph().as_default(), tf1.Session() as sess:
        tf1.import_graph_def(model.graph_def, name="")
        return sess.run([f"{layer}:0" for layer in layers] + ["softmax2:0"],
                        {"input:0": lo + dataset.images() * (hi - lo)})


def kept_mask(probs, labels, threshold):
    return (probs.argmax(1) == labels) & (probs[np.arange(len(labels)), labels] >= threshold)


@pytest.mark.parametrize("which, layers, position, active", [
    ("mlp", ["dense1", "dense3"], "mean", 0.0),
    ("conv", ["conv2d0", "mixed4a"], "center", 0.5),
    ("conv", ["mixed3a"], "max", 0.0),
])
def test_statistics_equal_a_brute_force_numpy_computation(request, tmp_path, which, layers, position, active):
    model = request.getfixturevalue(which)
    dataset = load_dataset("embedded", model, limit=150)
    config = ClassesConfig(tuple(layers), threshold=0.9, position=position, active_threshold=active, replicates=0,
                           batch_size=40)
    stats, seen, kept, _ = collect(model, dataset, config, DIGITS)
    *acts, probs = brute_force(model, dataset, layers)
    keep = kept_mask(probs, dataset.labels, 0.9)
    assert seen.tolist() == np.bincount(dataset.labels, minlength=10).tolist()
    assert kept.tolist() == np.bincount(dataset.labels[keep], minlength=10).tolist()
    assert 0 < kept.sum() < len(dataset)
    for layer, a in zip(layers, acts):
        a = a.astype(np.float64)
        if a.ndim == 4:
            h, w = a.shape[1:3]
            a = {"mean": a.mean(axis=(1, 2)), "max": a.max(axis=(1, 2)), "center": a[:, h // 2, w // 2]}[position]
        s = stats[layer]
        for d in DIGITS:
            x = a[keep & (dataset.labels == d)]
            assert s.n[d] == len(x)
            if len(x):
                np.testing.assert_allclose(s.mean[d], x.mean(axis=0), rtol=1e-5, atol=1e-6)
                np.testing.assert_allclose(s.variance[d], x.var(axis=0), rtol=1e-4, atol=1e-6)
                assert s.count[d].tolist() == (x > active).sum(axis=0).tolist()
                assert s.contributing(0.5)[d].tolist() == ((x > active).mean(axis=0) >= 0.5).tolist()


def test_threshold_filters_confident_correct_images(mlp, tmp_path):
    dataset = load_dataset("embedded", mlp, limit=300)
    (probs,) = brute_force(mlp, dataset, [])
    kept_by = {}
    for threshold in (0.0, 0.5, 0.99, 1.0):
        _, _, kept, config = collect(mlp, dataset, ClassesConfig(("dense2",), threshold=threshold, replicates=0),
                                     DIGITS)
        assert config["threshold"] == threshold
        assert kept.tolist() == np.bincount(dataset.labels[kept_mask(probs, dataset.labels, threshold)],
                                            minlength=10).tolist()
        kept_by[threshold] = kept.sum()
    assert kept_by[0.0] == np.sum(probs.argmax(1) == dataset.labels)
    assert kept_by[0.0] > kept_by[0.99] > 0 and kept_by[0.99] >= kept_by[1.0]


def synthetic(mean, count, n):
    s = ClassAccumulator(len(mean), len(mean[0]))
    s.mean, s.count, s.n = np.array(mean, float), np.array(count), np.array(n)
    return s


def test_matrices_by_hand():
    s = synthetic(mean=[[3.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 0.0]],
                  count=[[2, 1, 0], [0, 2, 2], [0, 0, 0]], n=[2, 4, 1])
    m = matrices(s)
    np.testing.assert_allclose(m["euclid_mean"], [[0, 5, 3], [5, 0, 4], [3, 4, 0]])
    # count / n: [1, .5, 0], [0, .5, .5], [0, 0, 0]
    np.testing.assert_allclose(m["euclid_count"][0, 1], np.sqrt(1 + 0 + 0.25))
    np.testing.assert_allclose(m["euclid_count"][1, 2], np.sqrt(0.5))
    # contributing sets {0, 1}, {1, 2}, {}: |{1}| / |{0, 1, 2}|; an empty set shares nothing with a full one
    np.testing.assert_allclose(m["jaccard"], [[1, 1 / 3, 0], [1 / 3, 1, 0], [0, 0, 1]])
    np.testing.assert_allclose(m["cosine"], [[1, 0, 0], [0, 1, 0], [0, 0, 0]])
    assert jaccard_similarity([[0, 0], [0, 0]]).tolist() == [[1, 1], [1, 1]]
    np.testing.assert_allclose(cosine_similarity(np.array([[1.0, 1.0], [2.0, 2.0]])), np.ones((2, 2)))
    summary = layer_summary(s)
    assert summary["euclid_mean"] == pytest.approx(4.0) and summary["contributing_mean"] == pytest.approx(4 / 3)
    means = np.random.default_rng(0).normal(size=(10, 32))
    assert relative_distance(3 * means) == pytest.approx(relative_distance(means))


def test_bootstrap_does_not_depend_on_batching_and_centres_on_the_means():
    rng = np.random.default_rng(1)
    values, classes = rng.normal(size=(90, 5)), rng.integers(0, 3, 90)
    whole, split = ClassAccumulator(3, 5, replicates=50, seed=7), ClassAccumulator(3, 5, replicates=50, seed=7)
    whole.update(values, classes, np.arange(90))
    for start in (0, 31, 64):
        rows = np.arange(start, min(start + 33, 90))[: {0: 31, 31: 33, 64: 26}[start]]
        split.update(values[rows], classes[rows], rows)
    np.testing.assert_allclose(split.mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(split.m2, whole.m2, rtol=1e-10)
    np.testing.assert_allclose(split.boot_sum, whole.boot_sum, rtol=1e-12)
    for k in range(3):
        np.testing.assert_allclose(whole.mean[k], values[classes == k].mean(axis=0))
    spread = np.nanstd(whole.boot_means(), axis=0)
    assert np.all(np.abs(np.nanmean(whole.boot_means(), axis=0) - whole.mean) < 3 * spread / np.sqrt(50) + 1e-9)
    assert np.all(spread > 0)


def test_unit_values_of_dense_and_conv_activations():
    conv_acts = np.arange(2 * 3 * 3 * 2, dtype=np.float32).reshape(2, 3, 3, 2)
    np.testing.assert_array_equal(unit_values(conv_acts, "center"), conv_acts[:, 1, 1])
    np.testing.assert_array_equal(unit_values(conv_acts, "max"), conv_acts[:, 2, 2])
    np.testing.assert_allclose(unit_values(conv_acts, "mean"), conv_acts.mean(axis=(1, 2)))
    dense = np.ones((4, 3))
    assert unit_values(dense, "max").shape == (4, 3)
    with pytest.raises(UserError):
        unit_values(dense, "corner")


class Interrupting:
    """A dataset that stops the pass (like Ctrl-C) at its ``after``-th batch."""

    def __init__(self, dataset, after):
        self.dataset, self.after, self.calls = dataset, after, 0

    def __getattr__(self, name):
        return getattr(self.dataset, name)

    def __len__(self):
        return len(self.dataset)

    def images(self, start=0, stop=None):
        self.calls += 1
        if self.calls == self.after:
            raise KeyboardInterrupt
        return self.dataset.images(start, stop)


def test_resume_after_interruption_gives_identical_results(mlp, tmp_path):
    dataset = load_dataset("embedded", mlp, limit=200)
    args = dict(config=ClassesConfig(("dense1", "dense2"), replicates=20, batch_size=32), classes=DIGITS)
    whole, *whole_tallies, _ = collect(mlp, dataset, **args)
    out = tmp_path / "resumed"
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        collect(mlp, Interrupting(dataset, after=4), checkpoint=Checkpoint(str(out)), **args)
    with np.load(out / (CHECKPOINT + ".npz")) as state:
        assert int(state["next"]) == 96
    resumed, *tallies, _ = collect(mlp, dataset, checkpoint=Checkpoint(str(out)), **args)
    for a, b in zip(tallies, whole_tallies):
        np.testing.assert_array_equal(a, b)
    for layer in ("dense1", "dense2"):
        for field in ClassAccumulator.FIELDS:
            np.testing.assert_array_equal(getattr(resumed[layer], field), getattr(whole[layer], field))
    with pytest.raises(UserError, match="other settings"):
        collect(mlp, dataset, checkpoint=Checkpoint(str(out)),
                **dict(args, config=ClassesConfig(("dense1", "dense2"), threshold=0.5, replicates=20, batch_size=32)))


class Killed(Exception):
    pass


def test_study_killed_and_rerun_continues_from_the_runner_checkpoint(mlp, tmp_path, monkeypatch):
    from inception_tools.classes import collect as collect_module

    dataset = load_dataset("embedded", mlp, limit=200)
    config = ClassesConfig(("dense1", "dense2"), classes="1,7", replicates=5, batch_size=32)
    whole = class_study(mlp, dataset, config, str(tmp_path / "whole"))
    out = tmp_path / "resumed"
    saves = []
    real_save = Checkpoint.save

    def save_then_die(self, name, **arrays):
        real_save(self, name, **arrays)
        saves.append(int(arrays["next"]))
        if len(saves) == 3:
            raise Killed

    monkeypatch.setattr(Checkpoint, "save", save_then_die)
    with pytest.raises(Killed):
        class_study(mlp, dataset, config, str(out))
    monkeypatch.undo()
    assert not (out / "stats.npz").exists() and not (out / "settings.json").exists()
    with np.load(out / ".partial" / (CHECKPOINT + ".npz")) as state:
        assert int(state["next"]) == 96
    with pytest.raises(UserError, match=r"holds an unfinished run made with config.threshold=0.9 \(now 0.5\)"):
        class_study(mlp, dataset, ClassesConfig(("dense1", "dense2"), classes="1,7", threshold=0.5, replicates=5,
                                                batch_size=32), str(out))
    seen = []
    monkeypatch.setattr(collect_module.log, "info", seen.append)
    resumed = class_study(mlp, dataset, config, str(out))
    assert seen == ["resuming at image 96 of 200"]
    assert not (out / ".partial").exists()
    for name in ("stats.npz", "classes.csv", "classes.json", "tables.md", "matrices/dense2_jaccard.csv"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    settings = json.loads((out / "settings.json").read_text())
    assert settings["stage"] == "classes" and settings["config"]["classes"] == "1,7"
    assert settings["inputs"]["model"] == "embedded-mlp" and settings["inputs"]["n_images"] == 200
    np.testing.assert_array_equal(resumed.mean["dense2"], whole.mean["dense2"])


def one_error_line(capsys, *argv):
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_bad_input_gives_one_error_line_and_writes_nothing(capsys, tmp_path):
    out = tmp_path / "out"
    common = ["classes", "--model", "embedded-mlp", "--limit", "50", "--out", str(out)]
    assert "unknown layer" in one_error_line(capsys, *common, "--layers", "dense1,dense9")
    assert "unknown class" in one_error_line(capsys, *common, "--layers", "dense1", "--classes", "3,12")
    assert "[0, 1]" in one_error_line(capsys, *common, "--layers", "dense1", "--threshold", "1.5")
    assert "[0, 1]" in one_error_line(capsys, *common, "--layers", "dense1", "--min-fraction", "-0.1")
    assert not out.exists()


def test_command_writes_csv_matrices_heatmaps_and_page(capsys, tmp_path):
    out = tmp_path / "out"
    argv = ["classes", "--model", "embedded-mlp", "--layers", "dense1,dense3", "--classes", "1,7", "--limit", "200",
            "--bootstrap", "10", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "| layer | units | Euclid. of means" in printed and "| 7 |" in printed
    rows = (out / "classes.csv").read_text().splitlines()
    assert rows[0].startswith("layer,class,label,unit,n_images,mean,variance,count,active_fraction,contributing")
    assert len(rows) == 1 + 2 * (128 + 32)
    matrix = (out / "matrices" / "dense3_jaccard.csv").read_text().splitlines()
    assert matrix[0] == "class,1,7" and len(matrix) == 3
    assert (out / "heatmaps" / "dense1.png").stat().st_size > 1000 and (out / "depth.png").is_file()
    page = (out / "index.html").read_text()
    assert "heatmaps/dense3.png" in page and "Contributing units" in page
    summary = json.loads((out / "classes.json").read_text())
    assert summary["settings"]["threshold"] == 0.9 and [c["class"] for c in summary["per_class"]] == [1, 7]
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(argv) == 0  # a finished folder is read back, nothing rewritten
    assert "| layer | units | Euclid. of means" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    refused = one_error_line(capsys, *argv, "--min-fraction", "0.5")
    assert "was made with config.min_fraction=0.0 (now 0.5); delete it" in refused


def test_class_restricted_importance_from_the_outcome_store(mlp, tmp_path):
    from scipy.stats import binomtest

    from inception_tools.classes.importance import class_importance, matters, mcnemar_p
    from inception_tools.importance import ImportanceConfig, score_layer
    from inception_tools.surgery import Network

    dataset = load_dataset("embedded", mlp)  # sorted by digit: every class needs the whole split
    net = Network(mlp, "dense3")
    try:
        result = score_layer(net, dataset, ImportanceConfig((0, 4, 9, 31), 1, batch_size=250, resamples=10), str(tmp_path / "i.csv"))
    finally:
        net.close()
    store = result.store
    columns, n_images = class_importance(store, [2, 8], 32)
    assert n_images.tolist() == [np.sum(dataset.labels == 2), np.sum(dataset.labels == 8)]
    assert np.isnan(columns["class_importance"][:, 1]).all()  # unit 1 was not scored
    for k, digit in enumerate([2, 8]):
        mine = dataset.labels == digit
        for row, unit in enumerate([0, 4, 9, 31]):
            base, after = store.base_correct[mine], store.correct[row, mine]
            assert columns["class_importance"][k, unit] == base.sum() - after.sum()
            wrong, right = int((base & ~after).sum()), int((~base & after).sum())
            assert columns["class_newly_wrong"][k, unit] == wrong and columns["class_newly_right"][k, unit] == right
            delta = store.field("delta_logprob")[row, mine].astype(np.float64)
            assert columns["class_mean_delta_logprob"][k, unit] == pytest.approx(delta.mean())
            assert columns["class_delta_logprob_se"][k, unit] == pytest.approx(delta.std(ddof=1) / np.sqrt(mine.sum()))
    # The scan's own columns are the sum over classes.
    whole = {int(r["feature_ind"]): r for r in result.rows}
    every, _ = class_importance(store, list(range(10)), 32)
    for unit in (0, 4, 9, 31):
        assert np.nansum(every["class_importance"][:, unit]) == float(whole[unit]["importance"])
    assert matters(columns).dtype == bool
    for b, c in [(0, 0), (3, 0), (5, 9), (12, 11)]:
        assert mcnemar_p(b, c) == pytest.approx(binomtest(b, b + c, 0.5).pvalue if b + c else 1.0)


def test_study_with_importance_adds_columns_and_table(mlp, tmp_path, capsys):
    from inception_tools.importance import ImportanceConfig, score_layer
    from inception_tools.surgery import Network

    dataset = load_dataset("embedded", mlp)
    net = Network(mlp, "dense3")
    try:
        score_layer(net, dataset, ImportanceConfig(None, 1, batch_size=250, resamples=10), str(tmp_path / "dense3.csv"))
    finally:
        net.close()
    out = tmp_path / "out"
    config = ClassesConfig(("dense2", "dense3"), classes="3,5", replicates=0, importance=(str(tmp_path / "dense3.csv"),))
    summary = class_study(mlp, dataset, config, str(out)).summary
    rows = summary["layers"]["dense3"]["matter_vs_active"]
    assert len(rows) == 2 and all(r["scored"] == 32 for r in rows)
    assert [c["seen"] for c in summary["per_class"]] == [100, 100]
    assert "matter_vs_active" not in summary["layers"]["dense2"]
    header = (out / "classes.csv").read_text().splitlines()[0]
    assert header.endswith("class_mcnemar_p,class_mean_delta_logprob,class_delta_logprob_se")
    assert "Spearman" in (out / "tables.md").read_text() and "matter" in (out / "index.html").read_text()
    first, again = class_study(mlp, dataset, config, str(out)), class_study(mlp, dataset, config, str(out))
    assert again.summary == first.summary and again.importance_table == first.importance_table != ""
    for name, columns in first.importance_columns.items():
        for layer in ("dense2", "dense3"):
            np.testing.assert_array_equal(again.importance_columns[name][layer], columns[layer])
    with pytest.raises(UserError, match="not a layer"):
        class_study(mlp, dataset, ClassesConfig(("dense2",), importance=(str(tmp_path / "dense3.csv"),)),
                    str(tmp_path / "other"))


def test_classes_has_the_defaults_of_the_other_commands(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # before: --layers and --out were required
    assert main(["classes", "--limit", "60", "--bootstrap", "0"]) == 0
    assert (tmp_path / "outputs" / "embedded-mixed3a" / "classes" / "classes.csv").is_file()
    assert "wrote outputs/embedded-mixed3a/classes/index.html" in capsys.readouterr().out


def test_a_folder_another_process_writes_is_refused_in_one_line(capsys, tmp_path):
    import filelock

    out = tmp_path / "out"
    out.mkdir()
    with filelock.FileLock(str(out / ".lock")):  # held as another process's runner holds it
        line = one_error_line(capsys, "classes", "--model", "embedded-mlp", "--layers", "dense1", "--limit", "50",
                              "--out", str(out))
    assert "another process is writing" in line
    assert sorted(p.name for p in out.iterdir()) == [".lock"]
