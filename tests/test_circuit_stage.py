"""The circuit stage through the runner, the API and the command line (embedded model)."""

import json
import os
import re

import numpy as np
import pytest

import inception_tools as it
from browser import chromium, chromium_missing_reason
from inception_tools import runner
from inception_tools.circuit import links, stage
from inception_tools.cli import main
from inception_tools.errors import UserError

FAST = dict(top=3, render_size=16, render_steps=4)


def test_neighbour_layers(embedded_model, standin_dir):
    assert links.layer_below(embedded_model, "mixed4a") == "mixed3a"
    assert links.layer_below(embedded_model, "mixed3a") == "conv2d0"
    assert links.layer_above(embedded_model, "mixed3a") == "mixed4a"
    standin = it.load_model("InceptionV1", str(standin_dir / "InceptionV1.pb"))
    assert links.layer_below(standin, "mixed3b") == "mixed3a"
    assert links.layer_above(standin, "mixed3b") == "mixed4a"
    assert links.layer_above(standin, "mixed4a") == "mixed4b"  # not the auxiliary head


def test_strongest_ranks_by_summed_kernel_with_its_sign():
    kernels = np.zeros((3, 3, 5))
    kernels[:, :, 0] = 1.0       # sum 9
    kernels[0, 0, 1] = 20.0      # sum 20
    kernels[:, :, 2] = -0.5      # sum -4.5
    kernels[1, 1, 3] = -1.0      # sum -1
    kernels[0, 0, 4], kernels[2, 2, 4] = 3.0, -3.0  # sum 0: neither sign
    top = links.strongest(kernels, 3)
    assert top["positive"].tolist() == [1, 0] and top["negative"].tolist() == [2, 3]


def test_a_bad_config_is_refused_when_made():
    with pytest.raises(UserError, match="top must be at least 1"):
        stage.CircuitConfig("mixed3a", 1, top=0)
    with pytest.raises(UserError, match="channel must be at least 0"):
        stage.CircuitConfig("mixed3a", -1)


def test_the_stage_runs_writes_and_reads_back(embedded_model, tmp_path):
    config = stage.CircuitConfig("mixed3a", 5, **FAST)
    result = runner.run(stage.STAGE, config, tmp_path / "c", model=embedded_model)
    assert result.inputs_from == "conv2d0" and result.next_layer == "mixed4a"
    assert result.kernels.shape == (11, 11, 48) and result.out_kernels.shape == (11, 11, 80)  # through maxpool4
    assert result.matrix.shape == (48, 96)
    np.testing.assert_allclose(result.matrix[:, 5], result.kernels.sum(axis=(0, 1)), rtol=1e-5)
    assert result.jacobian_error < 1e-5
    sums = result.kernels.sum(axis=(0, 1))
    assert sums[result.top_inputs["positive"][0]] == sums.max() and sums[result.top_inputs["negative"][0]] == sums.min()
    shown = {f"conv2d0/{c}" for cs in result.top_inputs.values() for c in cs} | {"mixed3a/5"}
    shown |= {f"mixed4a/{c}" for cs in result.top_outputs.values() for c in cs}
    assert set(result.renders) == shown and all(im.shape == (16, 16, 3) for im in result.renders.values())
    page = (tmp_path / "c" / "index.html").read_text()
    for c in result.top_inputs["positive"]:
        assert f"kernels/in_{c:04d}.png" in page and f"renders/conv2d0_{c:04d}.png" in page
        assert (tmp_path / "c" / f"kernels/in_{c:04d}.png").is_file()
    links_on_page = re.findall(r'(?:src|href)="([^"#:]+)"', page)
    assert links_on_page and all((tmp_path / "c" / link).is_file() for link in links_on_page)
    assert (tmp_path / "c" / "matrix.png").is_file() and (tmp_path / "c" / "inputs.png").is_file()
    np.testing.assert_array_equal(np.load(tmp_path / "c" / "matrix.npy"), result.matrix)
    again = runner.run(stage.STAGE, config, tmp_path / "c", model=embedded_model)
    assert again.summary() == json.loads((tmp_path / "c" / "circuit.json").read_text())
    assert set(again.renders) == shown and np.array_equal(again.kernels, result.kernels)


def test_the_last_spatial_layer_has_no_outputs(embedded_model):
    result = stage.compute(embedded_model, stage.CircuitConfig("mixed4a", 2, render_steps=0))
    assert result.next_layer is None and result.renders == {}
    assert result.summary()["top_outputs"] is None


def test_an_interrupted_run_resumes_without_expanding_again(embedded_model, tmp_path, monkeypatch):
    config = stage.CircuitConfig("mixed3a", 7, **FAST)
    monkeypatch.setattr(stage, "_renders", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        runner.run(stage.STAGE, config, tmp_path / "c", model=embedded_model)
    assert "expanded.npz" in os.listdir(tmp_path / "c" / runner.PARTIAL)
    monkeypatch.undo()
    monkeypatch.setattr(stage.expand, "expanded_weights", lambda *a, **k: pytest.fail("expanded again"))
    result = runner.run(stage.STAGE, config, tmp_path / "c", model=embedded_model)
    assert result.kernels.shape == (11, 11, 48) and (tmp_path / "c" / "circuit.json").is_file()


def test_the_api_returns_a_circuit_and_writes_nothing(embedded_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = it.circuit(embedded_model, "mixed4a", 3, inputs_from="conv2d0", render_steps=0)
    assert isinstance(result, stage.Circuit) and result.inputs_from == "conv2d0"
    assert result.kernels.shape == (31, 31, 48) and result.jacobian_error < 1e-5
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("args, message", [
    (["--layer", "mixed3a", "--channel", "96"], "error: channel 96 out of range: mixed3a has channels 0-95"),
    (["--layer", "mixed3a", "--channel", "1", "--inputs-from", "mixed4a"],
     "error: layers mixed4a and mixed3a are not connected: mixed3a does not depend on mixed4a"),
    (["--layer", "softmax2", "--channel", "1", "--inputs-from", "mixed4a"], "which has no spatial kernel"),
    (["--layer", "mixed9z", "--channel", "1"], "error: unknown layer 'mixed9z'"),
])
def test_cli_errors_are_one_line_and_write_nothing(tmp_path, capsys, args, message):
    code = main(["circuit", *args, "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err
    assert not (tmp_path / "c").exists()


def test_cli_prints_the_circuit(tmp_path, capsys):
    assert main(["circuit", "--layer", "mixed3a", "--channel", "5", "--top", "2", "--steps", "0",
                 "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "positive inputs from conv2d0:" in out and "Jacobian check: max relative error" in out
    assert (tmp_path / "c" / "index.html").is_file()


@pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason()))
def test_the_page_loads_every_image_without_errors(embedded_model, tmp_path):
    runner.run(stage.STAGE, stage.CircuitConfig("mixed3a", 5, **FAST), tmp_path / "c", model=embedded_model)
    with chromium() as browser:
        tab = browser.new_page(viewport={"width": 1280, "height": 1200})
        errors = []
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(f"file://{tmp_path / 'c' / 'index.html'}")
        tab.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        assert tab.locator("img.kernel").count() == 12 and tab.locator("tr.negative").count() == 6
        assert errors == []
