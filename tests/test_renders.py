"""The visualizations stage on the study runner: renders in memory, on disk, resumed, added to, and old
folders adopted."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from inception_tools import renders, runner, visualization
from inception_tools.errors import UserError
from inception_tools.layout import visualization_dir
from inception_tools.renders import RendersConfig
from inception_tools.visualization import RenderConfig, load_channel, render

LAYER = "mixed3a"
SMALL = dict(steps=2, size=16)


class Interrupt(Exception):
    pass


def run(model, out, channels, distribute=None, **recipe):
    """The stage through the runner, as the CLI and the pipeline call it."""
    folder = visualization_dir(out, LAYER, recipe.get("objective", "diversity"))
    config = renders.prepare(model, RendersConfig(layer=LAYER, channels=tuple(channels), **recipe), folder)
    return runner.run(renders.STAGE, config, folder, model=model, distribute=distribute)


def folder_of(out):
    return out / "visualizations" / LAYER


def files(out):
    """``{name: bytes}`` of the channel files."""
    return {p.name: p.read_bytes() for p in sorted(folder_of(out).glob("channel_*"))}


@pytest.fixture
def counted(monkeypatch):
    """The calls rendered (their channels), as the stage makes them."""
    calls = []
    real = visualization.render

    def counting(model, layer, channels, *args):
        calls.append(list(channels))
        return real(model, layer, channels, *args)

    monkeypatch.setattr(visualization, "render", counting)
    return calls


def test_compute_alone_writes_nothing_and_equals_what_the_runner_writes(embedded_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = renders.compute(embedded_model, RendersConfig(layer=LAYER, channels=(3, 1, 2), per_call=2, **SMALL))
    assert os.listdir(tmp_path) == []
    assert result.channels.tolist() == [3, 1, 2] and result.images.shape == (3, 4, 16, 16, 3)
    assert result.images.dtype == np.float32 and result.index(1) == 1
    on_disk = run(embedded_model, tmp_path / "out", [3, 1, 2], per_call=2, **SMALL)
    np.testing.assert_array_equal(result.images, on_disk.images)


def test_runner_writes_strips_arrays_and_settings_then_skips_what_is_there(embedded_model, tmp_path, counted):
    result = run(embedded_model, tmp_path, [3, 1, 2], steps=4, size=24, per_call=2)
    assert counted == [[3, 1], [2]]
    assert isinstance(result, renders.Renders) and result.channels.tolist() == [3, 1, 2]
    folder = folder_of(tmp_path)
    strip = np.asarray(Image.open(folder / "channel_0003.png"))
    saved = load_channel(tmp_path, LAYER, 3)
    assert strip.shape == (24, 96, 3)
    assert saved.shape == (4, 24, 24, 3) and saved.dtype == np.float32
    np.testing.assert_array_equal(saved, result.images[0])
    np.testing.assert_array_equal(strip, (saved.transpose(1, 0, 2, 3).reshape(24, 96, 3) * 255).round())
    settings = json.loads((folder / "settings.json").read_text())
    assert settings == {"stage": "visualizations", "inputs": {"model": "embedded"},
                        "config": {"layer": LAYER, "steps": 4, "size": 24, "seed": 0, "objective": "diversity",
                                   "diversity_weight": 1.0, "engine": "fast", "per_call": 2}}
    assert sorted(os.listdir(folder)) == [".lock"] + sorted(f"channel_{c:04d}{s}" for c in (1, 2, 3)
                                                            for s in (".npy", ".png")) + ["settings.json"]
    counted.clear()
    run(embedded_model, tmp_path, [3, 1, 2], steps=4, size=24, per_call=2)
    assert counted == []
    (folder / "channel_0001.npy").unlink()  # a call is redone whole when one of its files is missing
    run(embedded_model, tmp_path, [3, 1, 2], steps=4, size=24, per_call=2)
    assert counted == [[3, 1]]


def test_adding_channels_to_a_finished_folder_renders_only_the_new_calls(embedded_model, tmp_path, counted):
    run(embedded_model, tmp_path, [3, 1, 2, 4], per_call=2, **SMALL)
    before = files(tmp_path)
    counted.clear()
    result = run(embedded_model, tmp_path, [3, 1, 2, 4, 6, 5], per_call=2, **SMALL)
    assert counted == [[6, 5]]
    assert result.channels.tolist() == [3, 1, 2, 4, 6, 5] and result.images.shape == (6, 4, 16, 16, 3)
    after = files(tmp_path)
    assert {name: after[name] for name in before} == before
    assert len(after) == 12
    counted.clear()
    assert run(embedded_model, tmp_path, [5], per_call=2, **SMALL).channels.tolist() == [5]  # read back
    assert counted == []
    whole = run(embedded_model, tmp_path / "whole", [3, 1, 2, 4, 6, 5], per_call=2, **SMALL)
    assert files(tmp_path / "whole") == after  # the same calls, so the same bytes as one run
    np.testing.assert_array_equal(whole.images, result.images)


def test_a_killed_run_resumes_from_its_checkpoint_with_the_same_bytes(embedded_model, tmp_path, counted):
    def dies_after_one(calls, config):
        call = calls[0]
        yield call, visualization.render(embedded_model, config.layer, call, config)
        raise Interrupt

    with pytest.raises(Interrupt):
        run(embedded_model, tmp_path / "killed", [3, 1, 2, 7, 5], distribute=dies_after_one, per_call=2, **SMALL)
    folder = folder_of(tmp_path / "killed")
    assert not (folder / "settings.json").exists() and not list(folder.glob("channel_*"))
    assert len(list((folder / runner.PARTIAL).glob("call_*.npz"))) == 1
    with pytest.raises(UserError, match="holds an unfinished run made with config[.]"):
        run(embedded_model, tmp_path / "killed", [3, 1, 2, 7, 5], per_call=2, steps=3, size=16)
    counted.clear()
    run(embedded_model, tmp_path / "killed", [3, 1, 2, 7, 5], per_call=2, **SMALL)
    assert counted == [[2, 7], [5]]
    assert not (folder / runner.PARTIAL).exists()
    run(embedded_model, tmp_path / "whole", [3, 1, 2, 7, 5], per_call=2, **SMALL)
    assert files(tmp_path / "killed") == files(tmp_path / "whole")
    assert (folder / "settings.json").read_bytes() == (folder_of(tmp_path / "whole") / "settings.json").read_bytes()


def test_other_settings_are_refused_in_one_line_before_any_work(embedded_model, tmp_path, counted):
    run(embedded_model, tmp_path, [3], per_call=2, steps=4, size=24)
    before = files(tmp_path)
    counted.clear()
    with pytest.raises(UserError, match=r"made with config.steps=4 \(now 8\)"):
        run(embedded_model, tmp_path, [3, 4], per_call=2, steps=8, size=24)
    with pytest.raises(UserError, match="config.engine='fast'"):  # a folder never mixes the engines' pixels
        run(embedded_model, tmp_path, [4], per_call=2, steps=4, size=24, engine="render_vis")
    with pytest.raises(UserError, match="config.seed=0"):
        run(embedded_model, tmp_path, [4], per_call=2, steps=4, size=24, seed=1)
    assert counted == [] and files(tmp_path) == before


def test_without_an_engine_a_folder_continues_with_its_own(embedded_model, tmp_path):
    run(embedded_model, tmp_path, [3], engine="render_vis", **SMALL)
    result = run(embedded_model, tmp_path, [4], **SMALL)
    settings = json.loads((folder_of(tmp_path) / "settings.json").read_text())
    assert settings["config"]["engine"] == "render_vis"
    np.testing.assert_array_equal(result.images[0], render(embedded_model, LAYER, [4],
                                                           RenderConfig(engine="render_vis", **SMALL))[0])


def legacy(out, **changes):
    """Turn the runner-form manifest of ``out`` into what the stage wrote before it was on the runner."""
    path = folder_of(out) / "settings.json"
    config = json.loads(path.read_text())["config"]
    old = dict(model="embedded", layer=config["layer"], objective=config["objective"], steps=config["steps"],
               size=config["size"], seed=config["seed"], per_call=config["per_call"],
               diversity_weight=config["diversity_weight"], engine=config["engine"])
    old.update(changes)
    path.write_text(json.dumps({k: v for k, v in old.items() if v is not None}, indent=1))
    return path


def test_a_folder_from_before_the_runner_is_adopted_when_its_settings_match(embedded_model, tmp_path, counted):
    run(embedded_model, tmp_path, [3, 1], per_call=2, **SMALL)
    path = legacy(tmp_path)
    before = files(tmp_path)
    counted.clear()
    result = run(embedded_model, tmp_path, [3, 1, 2], per_call=2, **SMALL)
    assert counted == [[2]] and result.channels.tolist() == [3, 1, 2]
    assert json.loads(path.read_text())["stage"] == "visualizations"
    assert {name: files(tmp_path)[name] for name in before} == before
    run(embedded_model, tmp_path / "fresh", [3, 1, 2], per_call=2, **SMALL)
    assert path.read_bytes() == (folder_of(tmp_path / "fresh") / "settings.json").read_bytes()


def test_a_folder_from_before_the_runner_with_other_settings_is_refused(embedded_model, tmp_path, counted):
    run(embedded_model, tmp_path, [3], **SMALL)
    path = legacy(tmp_path, steps=4)
    old = path.read_bytes()
    counted.clear()
    with pytest.raises(UserError, match=r"mixed3a was made by an earlier version with steps=4 \(now 2\); delete it") as raised:
        run(embedded_model, tmp_path, [3, 4], **SMALL)
    assert "\n" not in str(raised.value)
    assert counted == [] and path.read_bytes() == old and not (folder_of(tmp_path) / "channel_0004.png").exists()


def test_a_folder_from_before_the_engines_were_recorded_continues_only_with_render_vis(embedded_model, tmp_path):
    run(embedded_model, tmp_path, [3], engine="render_vis", **SMALL)
    path = legacy(tmp_path, engine=None)
    with pytest.raises(UserError, match="engine=absent"):
        run(embedded_model, tmp_path, [3, 4], engine="fast", **SMALL)
    assert not (folder_of(tmp_path) / "channel_0004.png").exists()
    run(embedded_model, tmp_path, [3, 4], **SMALL)  # its engine: render_vis
    assert (folder_of(tmp_path) / "channel_0004.png").exists()
    assert json.loads(path.read_text())["config"]["engine"] == "render_vis"


@pytest.mark.parametrize("fields, message", [
    (dict(objective="dream"), "unknown objective 'dream'"),
    (dict(engine="eager"), "unknown render engine 'eager'"),
    (dict(steps=0), "steps must be an integer of at least 1"),
    (dict(per_call=0), "per_call must be an integer of at least 1"),
    (dict(size=4), "size must be at least 8 pixels"),
    (dict(seed=-1), "seed must be an integer from 0"),
    (dict(diversity_weight=float("nan")), "diversity_weight must be a finite number"),
    (dict(channels=()), "channels selects no channel"),
    (dict(channels=(1.5,)), "channels must be channel numbers"),
])
def test_a_bad_config_is_refused_when_made_naming_the_field(fields, message):
    with pytest.raises(UserError, match=message) as raised:
        RendersConfig(**{"layer": LAYER, "channels": (0,), **fields})
    assert "--" not in str(raised.value)


def test_what_the_model_lacks_is_refused_before_any_file(embedded_model, tmp_path):
    for layer, channels, message in (("mixed9z", [0], "unknown layer"), ("softmax2", [0], "softmax2_pre_relu"),
                                     (LAYER, [96], "out of range")):
        config = RendersConfig(layer=layer, channels=tuple(channels))
        with pytest.raises(UserError, match=message):
            renders.prepare(embedded_model, config, visualization_dir(tmp_path, layer))
        with pytest.raises(UserError, match=message):
            renders.compute(embedded_model, config)
    assert os.listdir(tmp_path) == []


def test_cli_interrupted_then_rerun_continues_with_the_same_bytes(tmp_path, capsys, monkeypatch):
    from inception_tools.cli import main

    real = visualization.render
    calls = []

    def interrupted_second_call(model, layer, channels, *args):
        calls.append(list(channels))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(model, layer, channels, *args)

    base = ["visualize", "--channels", "0-3", "--steps", "2", "--size", "16", "--per-call", "2"]
    monkeypatch.setattr(visualization, "render", interrupted_second_call)
    assert main(base + ["--out", str(tmp_path / "cut")]) == 130
    assert not list(folder_of(tmp_path / "cut").glob("channel_*"))
    calls.clear()
    assert main(base + ["--out", str(tmp_path / "cut")]) == 0
    assert calls == [[2, 3]]
    monkeypatch.setattr(visualization, "render", real)
    assert main(base + ["--out", str(tmp_path / "whole")]) == 0
    assert files(tmp_path / "cut") == files(tmp_path / "whole") and len(files(tmp_path / "whole")) == 8
    capsys.readouterr()
    assert main(["visualize", "--channels", "96", "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "out of range" in err
    assert not (tmp_path / "bad").exists()
