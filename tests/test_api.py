"""The notebook API: the README's snippet runs, and the functions agree with the command line."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

import inception_tools as it

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_snippet():
    text = README.read_text()
    section = text[text.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_snippet_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(_readme_snippet(), "README.md", "exec"), scope)
    table = scope["table"]
    assert len(table.columns["importance"]) == 96
    assert scope["images"].shape == (4, 28, 28, 3)
    assert scope["top"].channels.tolist() == [83] and scope["top"].top_ids.shape == (1, 8)


def test_importance_equals_the_command_line(tmp_path):
    model = it.load_model("embedded")
    ds = it.load_dataset("embedded", model, limit=100)
    table = it.importance(model, "mixed4a", ds, channels=range(6), report=lambda line: None)
    out = tmp_path / "cli.csv"
    subprocess.run([sys.executable, "-m", "inception_tools", "importance", "--layer", "mixed4a", "--limit", "100",
                    "--channels", "0-5", "--out", str(out)], check=True, capture_output=True)
    rows = out.read_text().splitlines()[1:]
    assert [int(r.split(",")[3]) for r in rows] == table.columns["importance"].astype(int).tolist()
    assert it.reliability(table)["measures"]["kl"]["rho"] == table.summary["reliability"]["measures"]["kl"]["rho"]


def test_examples_are_the_strongest_activations(embedded_model):
    ds = it.load_dataset("embedded", embedded_model, limit=64)
    found = it.examples(embedded_model, "mixed3a", ds, channels=[5], k=3)
    from inception_tools.surgery import Network

    acts = Network(embedded_model, "mixed3a").layer_activations(ds.images(0, 64))
    h, w = acts.shape[1:3]
    centre = acts[:, h // 2, w // 2, 5]
    assert found.top_rows[found.index(5)].tolist() == np.argsort(-centre, kind="stable")[:3].tolist()


def test_render_takes_an_engine_and_refuses_an_unknown_one(embedded_model):
    import pytest

    from inception_tools.errors import UserError

    fast = it.render(embedded_model, "mixed3a", 5, steps=2, size=16, objective="channel")
    lucid = it.render(embedded_model, "mixed3a", 5, steps=2, size=16, objective="channel", engine="render_vis")
    assert fast.shape == (4, 16, 16, 3)
    np.testing.assert_array_equal(fast, lucid)  # the channel objective: the same arithmetic (test_visualization)
    with pytest.raises(UserError, match="render engine"):
        it.render(embedded_model, "mixed3a", 5, steps=2, size=16, engine="xla")


def _objectives():
    from inception_tools.lucid_compat import import_lucid

    import_lucid()
    from lucid.optvis import objectives

    return objectives


def test_render_takes_a_composed_lucid_objective(embedded_model):
    from inception_tools.surgery import Network

    objectives = _objectives()
    up = objectives.channel("mixed3a", 5) - objectives.diversity("mixed3a")  # the embedded model's weight, 1
    down = -objectives.channel("mixed3a", 5) - objectives.diversity("mixed3a")
    raised = it.render(embedded_model, up, steps=24, size=28)
    lowered = it.render(embedded_model, objective=down, steps=24, size=28, batch=3)
    assert raised.shape == (4, 28, 28, 3) and lowered.shape == (4 - 1, 28, 28, 3) and raised.dtype == np.float32
    assert 0 <= raised.min() and raised.max() <= 1
    net = Network(embedded_model, "mixed3a")
    try:
        acts = [net.layer_activations(images)[..., 5].mean(axis=(1, 2)) for images in (raised, lowered)]
    finally:
        net.close()
    assert acts[0].min() > acts[1].max()  # each image follows its own objective's sign


def test_a_lucid_channel_objective_renders_the_recipes_bytes(embedded_model):
    # The recipe "channel" is channel(<layer>_pre_relu, c), seeded by call_seed(seed, c): given the same
    # objective and seed, the general path gives the same bytes on both engines; "layer:n" is Lucid's shortcut.
    from inception_tools.visualization import call_seed

    objectives = _objectives()
    seed = call_seed(0, 5)
    for engine in ("fast", "render_vis"):
        recipe = it.render(embedded_model, "mixed3a", 5, steps=3, size=16, objective="channel", engine=engine)
        general = it.render(embedded_model, objectives.channel("mixed3a_pre_relu", 5), steps=3, size=16,
                            seed=seed, engine=engine)
        np.testing.assert_array_equal(recipe, general)
    shortcut = it.render(embedded_model, "mixed3a_pre_relu:5", steps=3, size=16, seed=seed)
    np.testing.assert_array_equal(shortcut, general)


def test_render_refuses_what_is_not_an_objective(embedded_model):
    import pytest

    from inception_tools.errors import UserError

    objectives = _objectives()
    with pytest.raises(UserError, match="lacks"):
        it.render(embedded_model, objectives.channel("mixed9z", 0), steps=1, size=16)
    with pytest.raises(UserError, match="needs a channel"):
        it.render(embedded_model, "mixed3a", steps=1, size=16)
    with pytest.raises(UserError, match="recipes"):
        it.render(embedded_model, objective="diversity", steps=1, size=16)
    with pytest.raises(UserError, match="Lucid objective alone"):
        it.render(embedded_model, "mixed3a", 5, objective=objectives.channel("mixed3a", 5), steps=1, size=16)
    with pytest.raises(UserError, match="not 3"):
        it.render(embedded_model, objective=3, steps=1, size=16)


def test_importance_without_out_writes_nothing_and_keeps_its_outcomes(tmp_path, monkeypatch, embedded_model):
    import tempfile

    import inception_tools as it

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    ds = it.load_dataset("embedded", embedded_model, limit=60)
    table = it.importance(embedded_model, "mixed3a", ds, channels=[2, 7], top_k=1)
    assert os.listdir(tmp_path) == []
    assert table.store.records.shape == (2, 60) and table.store.channels == [2, 7]
    assert table.columns["mean_kl"].shape == (2,)
    assert set(it.reliability(table)["measures"]) == {"importance", "delta-logprob", "kl", "l1"}


def test_the_api_answers_bad_arguments_with_one_line_user_errors(tmp_path):
    import pytest

    from inception_tools.errors import UserError

    model = it.load_model("embedded")
    ds = it.load_dataset("embedded", model, limit=20)
    cases = [
        (lambda: it.load_model(["embedded"]), "unknown model"),  # before: TypeError (unhashable list)
        (lambda: it.load_model("embedded", layers="mixed3a"), "layers must be a list"),
        (lambda: it.load_dataset("embedded", "embedded"), "model must be a loaded model"),  # before: AttributeError
        (lambda: it.load_dataset("embedded", model, limit=0), "limit must be a positive number"),
        (lambda: it.importance("embedded", "mixed3a", ds), "model must be a loaded model"),
        (lambda: it.importance(model, "mixed9z", ds), "unknown layer 'mixed9z'"),  # before: KeyError
        (lambda: it.importance(model, 3, ds), "a layer is a name"),
        (lambda: it.importance(model, "mixed3a", ds, channels=[96]), "channel 96 out of range"),
        (lambda: it.importance(model, "mixed3a", ds, channels=["1"]), "channels must be integers"),
        (lambda: it.importance(model, "mixed3a", "embedded"), "dataset must be a loaded dataset"),
        (lambda: it.importance(model, "mixed3a", ds, top_k=10), "top_k must be an integer from 1 to 9"),
        (lambda: it.importance(model, "softmax2", ds), "model's output"),
        (lambda: it.render("embedded", "mixed3a", 0, steps=2), "model must be a loaded model"),
        (lambda: it.render(model, "mixed3a", 96, steps=2), "channel 96 out of range"),
        (lambda: it.render(model, "nope", 0, steps=2), "unknown layer"),
        (lambda: it.examples(model, "mixed3a", ds, channels=[-1]), "channel -1 out of range"),
        (lambda: it.examples("embedded", "mixed3a", ds), "model must be a loaded model"),
        (lambda: it.reliability(tmp_path / "missing.csv"), "missing"),
        (lambda: it.reliability(42), "importance result or the path"),
        (lambda: it.reliability(tmp_path / "missing.csv", seed=-1), "seed must be an integer"),
    ]
    for call, message in cases:
        with pytest.raises(UserError, match=re.escape(message)) as e:
            call()
        assert "\n" not in str(e.value) and "--" not in str(e.value)


def test_render_of_channels_in_memory_or_kept_in_a_study_folder(embedded_model, tmp_path):
    import pytest

    from inception_tools.errors import UserError
    from inception_tools.renders import Renders

    small = dict(steps=2, size=16, objective="channel")
    one = it.render(embedded_model, "mixed3a", 5, **small)
    several = it.render(embedded_model, "mixed3a", [7, 5], **small)
    assert isinstance(several, Renders) and several.images.shape == (2, 4, 16, 16, 3)
    np.testing.assert_array_equal(several.images[several.index(5)], one)  # per_call 1: each channel alone
    assert not any(tmp_path.iterdir())
    kept = it.render(embedded_model, "mixed3a", [5], out=tmp_path, **small)
    np.testing.assert_array_equal(kept.images[0], one)
    folder = tmp_path / "visualizations" / "mixed3a-channel"
    assert sorted(p.name for p in folder.glob("channel_*")) == ["channel_0005.npy", "channel_0005.png"]
    again = it.render(embedded_model, "mixed3a", 5, out=tmp_path, **small)  # read back
    np.testing.assert_array_equal(again, one)
    with pytest.raises(UserError, match=r"config.steps=2 \(now 3\)"):
        it.render(embedded_model, "mixed3a", 5, out=tmp_path, **dict(small, steps=3))
    with pytest.raises(UserError, match="a Lucid objective's images are returned only"):
        it.render(embedded_model, "mixed3a:5", steps=2, size=16, out=tmp_path)
