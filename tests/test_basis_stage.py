"""The basis stage on the study runner: compute writes nothing, a killed ablation resumes to the same bytes,
other settings are refused, folders made before the runner are taken over or refused."""

import json
import os
import shutil
import tempfile

import numpy as np
import pytest

from inception_tools import runner
from inception_tools.basis import files, stage, steps
from inception_tools.basis.config import BasisConfig
from inception_tools.basis.result import BasisStudy
from inception_tools.data import load_dataset
from inception_tools.errors import UserError
from inception_tools.surgery import Network

CONFIG = BasisConfig(ablation_images=40, ks=(1, 4), vectors=(0,), strip_points=3, strip_k=2)


@pytest.fixture(scope="module")
def net(embedded_model):
    net = Network(embedded_model, "mixed3a")
    yield net
    net.close()


@pytest.fixture(scope="module")
def digits(embedded_model):
    return load_dataset("embedded", embedded_model, limit=120)


@pytest.fixture(scope="module")
def finished(net, digits, tmp_path_factory):
    """A study folder run once without interruption, and its result."""
    out = tmp_path_factory.mktemp("whole") / "basis"
    return out, stage.basis_study(net, digits, str(out), CONFIG)


def tree(folder):
    """{relative path: bytes} of every file in ``folder`` (the lock file left out)."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            if name != ".lock":
                with open(path, "rb") as f:
                    found[os.path.relpath(path, folder)] = f.read()
    return found


def test_compute_alone_writes_nothing(net, digits, tmp_path, monkeypatch, finished):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = stage.compute(net, digits, CONFIG)
    assert os.listdir(tmp_path) == []
    assert result.summary == finished[1].summary and result.summary["ablation_images"] == 40
    assert [r["k"] for r in result.curves.rows if r["basis"] == "pca" and r["order"] == "top"] == [0, 1, 4]
    assert result.strips[0][0].dtype == np.uint8 and result.strips[0][1]["vector"] == 1
    assert result.bases["pca"].vectors.tobytes() == finished[1].bases["pca"].vectors.tobytes()
    assert result.report()[0].startswith("explained variance (layer): 80%:")


def test_a_finished_folder_is_read_back_and_writes_the_same_bytes(net, digits, finished, tmp_path, monkeypatch):
    out, _ = finished
    before = tree(out)
    assert set(before) >= set(stage.STAGE.output_names(stage.resolved(net.model, CONFIG)))
    monkeypatch.setattr(steps, "sample_activations", lambda *a: pytest.fail("a finished folder was computed again"))
    again = stage.basis_study(net, digits, str(out), CONFIG)
    assert tree(out) == before and again.summary == finished[1].summary
    files.write(again, runner.Folder(str(tmp_path / "copy")))
    copy = tree(tmp_path / "copy")
    assert copy == {name: data for name, data in before.items() if name != "settings.json"}


def test_other_settings_are_refused_and_nothing_changes(net, digits, finished):
    out, _ = finished
    before = tree(out)
    with pytest.raises(UserError, match=r"was made with config.seed=0 \(now 1\)"):
        stage.basis_study(net, digits, str(out), BasisConfig(**{**vars(CONFIG), "seed": 1}))
    assert tree(out) == before


def first_batch_then_kill(net):
    def distribute(job, dataset, batches):
        yield batches[0], job(net, dataset, *batches[0])
        raise KeyboardInterrupt

    return distribute


def recording(net, asked):
    def distribute(job, dataset, batches):  # the one-process loop, recording what it is asked for
        asked.append(list(batches))
        return ((batch, job(net, dataset, *batch)) for batch in batches)

    return distribute


def test_a_run_killed_during_the_ablation_resumes_and_writes_the_same_bytes(net, digits, finished, tmp_path,
                                                                           monkeypatch):
    out = tmp_path / "basis"
    with pytest.raises(KeyboardInterrupt):
        stage.basis_study(net, digits, str(out), CONFIG, distribute=first_batch_then_kill(net))
    with open(out / ".partial" / "ablation" / "state.json") as f:
        assert json.load(f)["images_done"] == 16
    assert sorted(os.listdir(out / ".partial")) == ["ablation", "bases.npz", "sample.npz", "settings.json"]
    assert not (out / "basis.json").exists()
    asked = []
    monkeypatch.setattr(steps, "sample_activations", lambda *a: pytest.fail("the sample was not resumed"))
    stage.basis_study(net, digits, str(out), CONFIG, distribute=recording(net, asked))
    assert asked == [[(16, 32), (32, 40)]]
    assert not (out / ".partial").exists()
    assert tree(out) == tree(finished[0])


def old_folder(net, digits, out, config, seed=None):
    """A folder as the basis stage made it before the runner: the old flat manifest, ``ablation.partial/``
    of a run killed after its first batch."""
    old = stage.summary_settings(net, digits, config)
    os.makedirs(out)
    with open(os.path.join(out, "settings.json"), "w") as f:
        json.dump({**old, "seed": old["seed"] if seed is None else seed}, f, indent=1)
    checkpoint = runner.Checkpoint()
    sample = steps.sampled(net, digits, config.seed, config.batch_size, checkpoint)
    bases = steps.bases_of(sample, config.components, checkpoint)
    with pytest.raises(KeyboardInterrupt):
        steps.curves(net, steps.spread(digits, config.ablation_images), bases, sample.mean, config,
                     net.model.default_top_k, os.path.join(out, "ablation.partial"), first_batch_then_kill(net))


def test_a_folder_made_before_the_runner_is_taken_over_and_continued(net, digits, finished, tmp_path):
    out = str(tmp_path / "old")
    old_folder(net, digits, out, CONFIG)
    asked = []
    stage.basis_study(net, digits, out, CONFIG, distribute=recording(net, asked))
    assert asked == [[(16, 32), (32, 40)]]  # the old unfinished ablation continued
    assert not os.path.exists(os.path.join(out, "ablation.partial"))
    with open(os.path.join(out, "settings.json")) as f:
        assert json.load(f)["stage"] == "basis"
    assert tree(out) == tree(finished[0])


def test_a_folder_made_before_the_runner_with_other_settings_is_refused(net, digits, tmp_path):
    out = str(tmp_path / "old")
    old_folder(net, digits, out, CONFIG, seed=1)
    with open(os.path.join(out, "settings.json")) as f:
        before = f.read()
    with pytest.raises(UserError, match=r"was made by an earlier version with seed=1 \(now 0\); delete it"):
        stage.basis_study(net, digits, out, CONFIG)
    with open(os.path.join(out, "settings.json")) as f:
        assert f.read() == before
    assert sorted(os.listdir(out)) == ["ablation.partial", "settings.json"]


def finished_old_folder(finished, out):
    """The finished folder as the old code left it: the same files, the old flat manifest."""
    shutil.copytree(finished[0], out)
    with open(os.path.join(out, "settings.json"), "w") as f:
        json.dump(finished[1].summary["settings"], f, indent=1)


def test_a_finished_folder_made_before_the_runner_is_read_back(net, digits, finished, tmp_path, monkeypatch):
    out = str(tmp_path / "old")
    finished_old_folder(finished, out)
    monkeypatch.setattr(steps, "sample_activations", lambda *a: pytest.fail("a finished folder was computed again"))
    again = stage.basis_study(net, digits, out, CONFIG)
    assert again.summary == finished[1].summary
    assert tree(out) == tree(finished[0])  # the manifest now in the runner's form, nothing else touched


def test_old_curves_of_other_k_values_are_refused(net, digits, finished, tmp_path):
    out = str(tmp_path / "old")
    finished_old_folder(finished, out)
    before = tree(out)
    with pytest.raises(UserError, match=r"ablation.csv was made by an earlier version with ks=\[0, 1, 4\] "
                                        r"\(now \[0, 1, 8\]\)"):
        stage.basis_study(net, digits, out, BasisConfig(**{**vars(CONFIG), "ks": (1, 8)}))
    assert tree(out) == before


def test_api_basis_writes_only_with_out_and_then_through_the_runner(embedded_model, digits, tmp_path, monkeypatch):
    import inception_tools as it

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    memory = it.basis(embedded_model, "mixed3a", digits, ablate=False, vectors=(1,), strip_points=2, strip_k=1)
    assert isinstance(memory, BasisStudy) and os.listdir(tmp_path) == []
    folder = it.basis(embedded_model, "mixed3a", digits, out="b", ablate=False, vectors=(1,), strip_points=2,
                      strip_k=1)
    with open(tmp_path / "b" / "settings.json") as f:
        manifest = json.load(f)
    assert manifest["stage"] == "basis" and manifest["config"]["vectors"] == [1]
    assert manifest["inputs"]["layer"] == "mixed3a" and manifest["inputs"]["n_images"] == 120
    assert folder.summary == memory.summary and folder.strips[1][1] == memory.strips[1][1]
    assert (folder.strips[1][0] == memory.strips[1][0]).all() and folder.curves is None
    assert sorted(os.listdir(tmp_path)) == ["b"]
