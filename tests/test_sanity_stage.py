"""The sanity stage on the embedded model: config checks, both tests, files, read-back and resume."""

import os

import numpy as np
import pytest

from inception_tools import runner
from inception_tools.errors import UserError
from inception_tools.sanity import cascade, stage
from inception_tools.sanity.similarity import MEASURES


@pytest.fixture(scope="module")
def model():
    from inception_tools.models import load_model

    return load_model("embedded")


@pytest.fixture(scope="module")
def dataset(model):
    from inception_tools.data import load_dataset

    return load_dataset("embedded", model, limit=6)


def config(**kwargs):
    settings = dict(methods=("gradient", "guided-backprop", "gradcam"), layer="mixed4a", depth=2, ig_steps=2,
                    smoothgrad_samples=2)
    settings.update(kwargs)
    return stage.SanityConfig(**settings)


@pytest.mark.parametrize("kwargs,message", [
    (dict(depth=-1), "depth must be a non-negative integer"),
    (dict(retrain_epochs=-3), "retrain_epochs must be"),
    (dict(pass_below=0.0), "pass_below must be in"),
    (dict(methods=("gradcam",), layer=None), "gradcam needs a layer"),
])
def test_bad_configs_are_refused(kwargs, message):
    with pytest.raises(UserError, match=message):
        config(**kwargs)


def test_model_and_data_checks(model, dataset, standin_dir):
    from inception_tools.models import load_model

    with pytest.raises(UserError, match="cascade depth 9 out of range"):
        stage.check(model, dataset, config(depth=9))
    with pytest.raises(UserError, match="figure_image 6 out of range"):
        stage.check(model, dataset, config(figure_image=6))
    standin = load_model("InceptionV1", str(standin_dir / "InceptionV1.pb"))
    with pytest.raises(UserError, match="only works for the embedded model, not InceptionV1"):
        stage.check(standin, dataset, config(methods=("gradient",), layer=None, retrain_epochs=1))


def test_cascade_and_data_randomization_in_memory(model, dataset, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = stage.compute(model, dataset, config(retrain_epochs=1))
    assert os.listdir(tmp_path) == []
    assert isinstance(result, stage.Sanity) and result.blocks == ["softmax2", "mixed4a"]
    assert result.similarity.shape == (2, 3, len(MEASURES), 6)
    assert result.examples.shape == (3, 3, 28, 28) and result.image.shape == (28, 28, 3)
    assert np.all(result.similarity <= 1 + 1e-6)
    # Gradients lose the trained model's ranking once the top blocks are random; the numbers are not all 1.
    assert result.similarity[-1, 0, 0].mean() < 0.9
    assert result.data_similarity.shape == (3, len(MEASURES), 6)
    assert result.retrain["epochs"] == 1 and 0 <= result.retrain["test_accuracy_on_real_labels"] <= 1
    verdicts = result.summary["cascade"]
    assert set(verdicts) == set(result.methods)
    assert verdicts["gradient"]["passes"] == result.passes("gradient")
    assert len(verdicts["gradient"]["spearman_abs"]["mean"]) == 2


class Stop(Exception):
    pass


def test_runner_files_resume_after_a_kill_and_read_back(model, dataset, tmp_path, monkeypatch):
    calls = []
    real = cascade.model_maps

    def counting(*args, **kwargs):
        calls.append(args[-1])
        if len(calls) == 3 and os.environ.get("STOP_AT_SECOND_STEP"):
            raise Stop
        return real(*args, **kwargs)

    monkeypatch.setattr(cascade, "model_maps", counting)
    monkeypatch.setenv("STOP_AT_SECOND_STEP", "1")
    out = tmp_path / "out"
    with pytest.raises(Stop):
        runner.run(stage.STAGE, config(), out, model=model, dataset=dataset)
    assert sorted(n for n in os.listdir(out / runner.PARTIAL) if n.endswith(".npz")) == ["step01.npz", "trained.npz"]
    monkeypatch.delenv("STOP_AT_SECOND_STEP")
    calls.clear()
    result = runner.run(stage.STAGE, config(), out, model=model, dataset=dataset)
    assert len(calls) == 1 and "2 block(s)" in calls[0]  # only the second step ran again
    for name in stage.STAGE.outputs:
        assert (out / name).is_file()
    report = (out / "report.md").read_text()
    assert "| gradient |" in report and ("passes" in report or "fails" in report)
    assert (out / "similarity.csv").read_text().startswith("test,step,block,method,measure,mean,lo,hi")
    again = runner.run(stage.STAGE, config(), out, model=model, dataset=dataset)
    assert np.array_equal(again.similarity, result.similarity) and again.summary == result.summary
    assert again.blocks == result.blocks and again.data_similarity is None
