"""The tuning stage through the runner, the API and the command line (embedded model)."""

import csv
import json
import os

import numpy as np
import pytest

import inception_tools as it
from inception_tools import runner
from inception_tools.cli import main
from inception_tools.errors import UserError
from inception_tools.tuning import stage, stimuli

FAST = dict(replicates=2, bootstrap=20)


class Interrupt(Exception):
    pass


@pytest.fixture(scope="module")
def digits(embedded_model):
    return it.load_dataset("embedded", embedded_model, limit=64)


def test_a_bad_config_is_refused_when_made():
    with pytest.raises(UserError, match="unknown stimulus 'blob'"):
        stage.TuningConfig("mixed3a", (1,), "blob")
    with pytest.raises(UserError, match="give channels, or search"):
        stage.TuningConfig("mixed3a")
    with pytest.raises(UserError, match="replicates must be at least 1"):
        stage.TuningConfig("mixed3a", (1,), replicates=0)


def test_tuning_through_the_runner(embedded_model, digits, tmp_path):
    config = stage.TuningConfig("mixed3a", (3, 5), "line", search=True, top=5, **FAST)
    result = runner.run(stage.STAGE, config, tmp_path / "t", model=embedded_model, dataset=digits)
    assert result.centre.shape == result.best.shape == (12, 3, 2, 96)
    assert np.all(result.best >= result.centre) and result.natural_p99.shape == (96,)
    s = result.stats
    live = result.natural_p99 > 0
    np.testing.assert_allclose(s["peak_relative"][live], s["peak"][live] / result.natural_p99[live], rtol=1e-6)
    # the statistics follow from the responses: channel 5's curve at its best style
    j = int(s["best_secondary"][5])
    curve = result.centre[:, j, :, 5].mean(axis=1)
    assert s["preferred"][5] == result.primary_values[curve.argmax()]
    assert set(result.search["selective"]) == set(np.flatnonzero(result.selective).tolist())
    assert len(result.search["top"]) <= 5
    cvs = [row["circular_variance"] for row in result.search["top"]]
    assert cvs == sorted(cvs)
    for name in ("curves.png", "curves/channel_0003.png", "curves/channel_0005.png", "search.png", "stimuli.png"):
        assert (tmp_path / "t" / name).is_file()
    rows = list(csv.DictReader(open(tmp_path / "t" / "channels.csv")))
    assert len(rows) == 96 and float(rows[5]["preferred"]) == s["preferred"][5]
    meta = json.loads((tmp_path / "t" / "tuning.json").read_text())
    assert [row["channel"] for row in meta["channels"]] == [3, 5] and meta["natural_reference"]
    again = runner.run(stage.STAGE, config, tmp_path / "t", model=embedded_model, dataset=digits)
    np.testing.assert_array_equal(again.centre, result.centre)
    np.testing.assert_array_equal(again.stats["circular_variance"], s["circular_variance"])
    assert again.search == json.loads(json.dumps(result.search))


def test_the_centred_response_is_the_model_on_the_stimulus(embedded_model):
    config = stage.TuningConfig("mixed3a", (7,), "grating", **FAST)
    result = stage.compute(embedded_model, None, config)
    fam = stimuli.family("grating")
    image = stimuli.draw(fam, embedded_model.image_shape, fam.primary_values[2], fam.secondary_values[1],
                         centre=(15.0, 15.0))  # mixed3a's unit (7, 7) is centred on pixel (15, 15)
    from inception_tools.examples import LayerReader

    reader = LayerReader(embedded_model, "mixed3a")
    acts = np.maximum(reader(image[None]), 0)[0]
    reader.close()
    np.testing.assert_allclose(result.centre[2, 1, 0], acts[7, 7], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(result.best[2, 1, 0], acts.max(axis=(0, 1)), rtol=1e-4, atol=1e-5)
    assert result.natural_p99 is None and np.isnan(result.stats["peak_relative"]).all()


def test_an_interrupted_run_resumes_from_its_chunks(embedded_model, tmp_path, monkeypatch):
    config = stage.TuningConfig("mixed3a", (1,), "curve", **FAST)  # 24 x 3 x 2 = 144 images: 3 chunks
    calls, armed = [], [True]
    real = stimuli.stimuli

    def counted(*args):
        calls.append(args[5:7])  # start, stop
        if armed[0] and len(calls) == 2:
            raise Interrupt
        return real(*args)

    monkeypatch.setattr(stimuli, "stimuli", counted)
    with pytest.raises(Interrupt):
        runner.run(stage.STAGE, config, tmp_path / "t", model=embedded_model, dataset=None)
    assert [n for n in os.listdir(tmp_path / "t" / runner.PARTIAL) if n.endswith(".npz")] == ["stimuli_0000.npz"]
    calls.clear()
    armed[0] = False
    resumed = runner.run(stage.STAGE, config, tmp_path / "t", model=embedded_model, dataset=None)
    assert calls == [(64, 128), (128, 144)]
    whole = stage.compute(embedded_model, None, config)
    np.testing.assert_array_equal(resumed.centre, whole.centre)


def test_the_api_returns_a_tuning_and_writes_nothing(embedded_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = it.tuning(embedded_model, "mixed3a", channels=[2], stimulus="color", replicates=2, bootstrap=10)
    assert isinstance(result, stage.Tuning) and result.primary == "hue" and result.period == 360
    assert result.centre.shape == (24, 2, 2, 96)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("args, message", [
    (["--channels", "3", "--stimulus", "blob"], "error: unknown stimulus 'blob'; stimuli: curve, line, grating, color"),
    (["--channels", "96"], "error: channel 96 out of range: the layer has channels 0-95"),
    ([], "error: give channels, or search for the most selective ones"),
])
def test_cli_errors_are_one_line_and_write_nothing(tmp_path, capsys, args, message):
    code = main(["tuning", "--layer", "mixed3a", *args, "--out", str(tmp_path / "t")])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == message
    assert not (tmp_path / "t").exists()


def test_cli_reports_the_channels_and_the_search(tmp_path, capsys):
    assert main(["tuning", "--layer", "mixed3a", "--channels", "5", "--stimulus", "line", "--search", "--top", "3",
                 "--replicates", "2", "--bootstrap", "10", "--limit", "32", "--out", str(tmp_path / "t")]) == 0
    out = capsys.readouterr().out
    assert "mixed3a:5: preferred orientation" in out and "peak/natural p99" in out
    assert "search:" in out and "most selective:" in out


def test_a_search_without_channels_plots_the_most_selective(tmp_path, capsys):
    assert main(["tuning", "--layer", "mixed4a", "--stimulus", "grating", "--search", "--replicates", "2",
                 "--bootstrap", "10", "--limit", "32", "--out", str(tmp_path / "t")]) == 0
    meta = json.loads((tmp_path / "t" / "tuning.json").read_text())
    plotted = [row["channel"] for row in meta["channels"]]
    assert plotted == [row["channel"] for row in meta["search"]["top"][:4]] and plotted
    assert all((tmp_path / "t" / f"curves/channel_{c:04d}.png").is_file() for c in plotted)
    assert meta["search"]["channels"] == 80
