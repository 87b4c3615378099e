"""The importance stage on the study runner (importance/stage.py, importance/legacy.py): compute writes nothing,
the runner's folder gives the same bytes, resumes, refuses other settings and adopts folders made before it."""

import json
import os

import numpy as np
import pytest

from inception_tools import runner
from inception_tools.data import load_dataset
from inception_tools.errors import UserError
from inception_tools.importance import ImportanceConfig, Importance, compute, score_layer
from inception_tools.importance.stage import STAGE, read
from inception_tools.surgery import Network

LAYER = "mixed4a"
CONFIG = ImportanceConfig((1, 4, 6), 1, batch_size=50, resamples=20, splits=4)
FILES = ["importance.csv", "importance.images.npz", "importance.json", "importance.lock", "importance.outcomes.npy",
         "importance.settings.json"]


def quiet(line):
    pass


@pytest.fixture(scope="module")
def digits(embedded_model):
    return load_dataset("embedded", embedded_model, limit=150)


@pytest.fixture(scope="module")
def net(embedded_model):
    net = Network(embedded_model, LAYER)
    yield net
    net.close()


@pytest.fixture(scope="module")
def scanned(net, digits, tmp_path_factory):
    folder = tmp_path_factory.mktemp("scan")
    return folder, score_layer(net, digits, CONFIG, str(folder / "importance.csv"), report=quiet)


def snapshot(folder):
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder)) if name != "importance.lock"}


def without_seconds(summary):
    return {key: value for key, value in summary.items() if key != "seconds"}


def test_compute_alone_writes_nothing_and_gives_what_the_folder_holds(net, digits, scanned, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = compute(net, digits, CONFIG, report=quiet)
    assert os.listdir(tmp_path) == []
    assert isinstance(result, Importance) and not isinstance(result.store.records, np.memmap)
    folder, written = scanned
    assert sorted(os.listdir(folder)) == FILES
    back = read(runner.Folder(folder, "importance"))
    assert result.rows == written.rows == back.rows  # ints where the table has counts, as compute gives them
    assert without_seconds(result.summary) == without_seconds(back.summary)
    assert np.array_equal(np.asarray(result.store.records), np.asarray(back.store.records))
    assert back.store.ids == result.store.ids and result.store.channels == [1, 4, 6]
    # The in-memory result written through the stage gives the runner's bytes (the summary but its seconds).
    STAGE.write(result, runner.Folder(tmp_path / "again", "importance"))
    again = snapshot(tmp_path / "again")
    expected = snapshot(folder)
    assert sorted(again) == sorted(set(expected) - {"importance.settings.json"})
    for name in again:
        if name != "importance.json":
            assert again[name] == expected[name], name


def test_a_finished_folder_is_read_back_and_other_settings_are_refused_in_one_line(net, digits, scanned):
    folder, _ = scanned
    before = snapshot(folder)
    calls = []
    again = score_layer(net, digits, CONFIG, str(folder / "importance.csv"), report=calls.append)
    assert calls == [] and snapshot(folder) == before and again.rows[0]["feature_ind"] == 1
    with pytest.raises(UserError, match=r"was made with config.top_k=1 \(now 2\)") as error:
        score_layer(net, digits, ImportanceConfig((1, 4, 6), 2, batch_size=50, resamples=20, splits=4),
                    str(folder / "importance.csv"), report=quiet)
    assert "\n" not in str(error.value)
    fewer = load_dataset("embedded", net.model, limit=100)
    with pytest.raises(UserError, match=r"was made with inputs.n_images=150"):
        score_layer(net, fewer, CONFIG, str(folder / "importance.csv"), report=quiet)
    assert snapshot(folder) == before


def test_several_scans_keep_their_files_side_by_side(net, digits, tmp_path):
    score_layer(net, digits, CONFIG, str(tmp_path / "a.csv"), report=quiet)
    score_layer(net, digits, ImportanceConfig((2,), 1, batch_size=50, resamples=20, splits=4),
                str(tmp_path / "b.csv"), report=quiet)
    names = sorted(os.listdir(tmp_path))
    assert names == sorted(name.replace("importance", stem) for stem in "ab" for name in FILES)
    assert json.loads((tmp_path / "b.settings.json").read_text())["config"]["channels"] == [2]
    with pytest.raises(UserError, match="must be a .csv file"):
        score_layer(net, digits, CONFIG, str(tmp_path / "c.txt"), report=quiet)


class Interrupt(Exception):
    pass


class Stopping:
    """An engine wrapper whose fill stops after ``batches`` image batches."""

    def __init__(self, engine, batches):
        self.engine, self.batches = engine, batches

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def fill(self, store, channels, start, stop, progress=None):
        def counting(n):
            self.batches -= 1
            if self.batches < 0:
                store.flush()
                raise Interrupt
        self.engine.fill(store, channels, start, stop, counting)


def test_an_interrupted_scan_resumes_through_the_runner_to_the_same_bytes(net, digits, scanned, tmp_path):
    out = str(tmp_path / "importance.csv")
    with pytest.raises(Interrupt):
        score_layer(net, digits, CONFIG, out, report=quiet, distribute=lambda engine: Stopping(engine, 1))
    partial = tmp_path / "importance.partial"
    assert sorted(os.listdir(partial)) == ["settings.json", "state.npz", "store"]
    done = int((np.load(partial / "store" / "outcomes.npy", mmap_mode="r")["outcome"] != 0).sum())
    assert 0 < done < 3 * len(digits)
    messages = []
    score_layer(net, digits, CONFIG, out, report=messages.append)
    assert f"resuming: {done} of {3 * len(digits)} channel-images already scored" in messages
    assert not partial.exists() and sorted(os.listdir(tmp_path)) == FILES
    resumed, whole = snapshot(tmp_path), snapshot(scanned[0])
    for name in resumed:
        if name != "importance.json":
            assert resumed[name] == whole[name], name
    assert without_seconds(json.loads(resumed["importance.json"])) == without_seconds(
        json.loads(whole["importance.json"]))


def make_legacy(folder, scanned):
    """A folder as an earlier version left it: the table, summary and outcomes, no manifest or lock."""
    source, _ = scanned
    folder.mkdir()
    for name in FILES[:3] + FILES[4:5]:
        (folder / name).write_bytes((source / name).read_bytes())
    return folder


def test_a_folder_made_before_the_runner_is_adopted_when_its_summary_records_the_same_settings(net, digits, scanned,
                                                                                              tmp_path):
    folder = make_legacy(tmp_path / "old", scanned)
    before = snapshot(folder)
    calls = []
    result = score_layer(net, digits, CONFIG, str(folder / "importance.csv"), report=calls.append)
    assert calls == []  # read back, not scanned again
    assert sorted(os.listdir(folder)) == FILES
    after = snapshot(folder)
    assert after.pop("importance.settings.json") == snapshot(scanned[0])["importance.settings.json"]
    assert after == before and result.rows == scanned[1].rows


@pytest.mark.parametrize("change, message", [
    (dict(config=ImportanceConfig((1, 4, 6), 2, batch_size=50)), "top_k=1 (now 2)"),
    (dict(config=ImportanceConfig((1, 4, 7), 1, batch_size=50)), "channels=3 from 1 to 6 (now 3 from 1 to 7)"),
    (dict(config=ImportanceConfig((1, 4, 6), 1, until=0.9)), "until_reliable=None (now {'target': 0.9"),
    (dict(limit=100), "n_images=150 (now 100)"),
    (dict(layer="mixed3a", config=ImportanceConfig((1, 4, 6), 1)), "layer='mixed4a' (now 'mixed3a')"),
])
def test_a_folder_made_before_the_runner_with_other_settings_is_refused_in_one_line(net, digits, scanned, tmp_path,
                                                                                   change, message):
    folder = make_legacy(tmp_path / "old", scanned)
    before = snapshot(folder)
    dataset = load_dataset("embedded", net.model, limit=change["limit"]) if "limit" in change else digits
    other = Network(net.model, change["layer"]) if "layer" in change else net
    try:
        with pytest.raises(UserError) as error:
            score_layer(other, dataset, change.get("config", CONFIG), str(folder / "importance.csv"), report=quiet)
    finally:
        if other is not net:
            other.close()
    assert str(error.value).startswith(f"{folder / 'importance.csv'} was made with ")
    assert message in str(error.value) and "\n" not in str(error.value)
    assert snapshot(folder) == before and sorted(os.listdir(folder)) == sorted(before)


def test_a_study_folder_made_before_the_runner_keeps_its_scan_in_the_pipeline(embedded_model, tmp_path):
    from inception_tools.pipeline import importance_stage

    dataset = load_dataset("embedded", embedded_model, limit=100)
    path = str(tmp_path / "importance.csv")
    lines = []
    importance_stage(embedded_model, LAYER, dataset, path, 1, 100, "once", lines.append)
    for name in ("importance.settings.json", "importance.lock"):  # as an earlier version left the folder
        (tmp_path / name).unlink()
    before = snapshot(tmp_path)
    lines.clear()
    importance_stage(embedded_model, LAYER, dataset, path, 1, 100, "once", lines.append)
    assert lines == [f"1/6 importance: {path} exists, kept (same settings)"]
    assert (tmp_path / "importance.settings.json").is_file()
    (tmp_path / "importance.settings.json").unlink()
    assert snapshot(tmp_path) == before
    with pytest.raises(UserError, match=r"importance.csv was made with top_k=1 \(now 2\); delete it"):
        importance_stage(embedded_model, LAYER, dataset, path, 2, 100, "once", lines.append)
    assert snapshot(tmp_path) == before and not (tmp_path / "importance.settings.json").exists()
