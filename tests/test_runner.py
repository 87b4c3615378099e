"""The study runner: settings manifest, lock, resume, atomic writes and inputs kept safe, on a toy stage."""

import dataclasses
import functools
import json
import os

import filelock
import numpy as np
import pytest

from inception_tools import runner
from inception_tools.errors import UserError


@dataclasses.dataclass(frozen=True)
class SquaresConfig:
    n: int = 6
    offsets: tuple = (0, 1)

    def __post_init__(self):
        if self.n < 1:
            raise UserError(f"n must be at least 1, not {self.n}")


@dataclasses.dataclass
class Squares:
    values: np.ndarray


class Interrupt(Exception):
    pass


def compute(values, config, checkpoint, stop_after=None, calls=None):
    """Squares of ``values[:n]`` plus offsets, one checkpoint group per element."""
    out = []
    for i in range(config.n):
        saved = checkpoint.load(f"item{i}")
        if saved is None:
            if calls is not None:
                calls.append(i)
            if stop_after is not None and i == stop_after:
                raise Interrupt
            saved = {"v": np.asarray(values[i] ** 2 + sum(config.offsets))}
            checkpoint.save(f"item{i}", **saved)
        out.append(saved["v"])
    return Squares(np.array(out))


def write(result, folder):
    folder.write_npy("squares.npy", result.values)


def read(folder):
    return Squares(np.load(folder.file("squares.npy")))


STAGE = runner.Stage("squares", compute, write, outputs=("squares.npy",), read=read)
IDENTITY = {"data": "toy"}


def run(folder, config=SquaresConfig(), **kwargs):
    return runner.run(STAGE, config, folder, inputs_identity=IDENTITY, values=np.arange(10), **kwargs)


def test_compute_alone_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = compute(np.arange(10), SquaresConfig(), runner.Checkpoint())
    assert result.values.tolist() == [i * i + 1 for i in range(6)]
    assert os.listdir(tmp_path) == []


def test_run_writes_settings_and_outputs_then_reads_them_back(tmp_path):
    calls = []
    first = run(tmp_path / "out", calls=calls)
    assert calls == list(range(6))
    manifest = json.loads((tmp_path / "out" / "settings.json").read_text())
    assert manifest == {"stage": "squares", "config": {"n": 6, "offsets": [0, 1]}, "inputs": IDENTITY}
    assert sorted(os.listdir(tmp_path / "out")) == [".lock", "settings.json", "squares.npy"]
    calls.clear()
    again = run(tmp_path / "out", calls=calls)
    assert calls == [] and np.array_equal(first.values, again.values)


def test_other_settings_are_refused_before_any_work(tmp_path):
    run(tmp_path / "out")
    before = (tmp_path / "out" / "squares.npy").read_bytes()
    calls = []
    with pytest.raises(UserError, match=r"made with config.n=6 \(now 7\)"):
        run(tmp_path / "out", SquaresConfig(n=7), calls=calls)
    assert calls == [] and (tmp_path / "out" / "squares.npy").read_bytes() == before


def test_an_unfinished_run_keeps_other_settings_out_and_a_failed_start_leaves_no_trace(tmp_path):
    with pytest.raises(Interrupt):
        run(tmp_path / "out", stop_after=2)
    with pytest.raises(UserError, match="holds an unfinished run made with config.n=6"):
        run(tmp_path / "out", SquaresConfig(n=7))
    with pytest.raises(Interrupt):
        run(tmp_path / "fails", stop_after=0)
    assert not (tmp_path / "fails").exists()  # the folder it made is gone with its lock
    (tmp_path / "kept").mkdir()
    with pytest.raises(Interrupt):
        run(tmp_path / "kept", stop_after=0)
    assert sorted(os.listdir(tmp_path / "kept")) == [".lock"]  # a folder that was there stays
    assert run(tmp_path / "fails", SquaresConfig(n=2)).values.tolist() == [1, 2]


def test_a_bad_config_is_refused_when_made():
    with pytest.raises(UserError, match="n must be at least 1"):
        SquaresConfig(n=0)


def test_an_interrupted_run_resumes_from_its_checkpoint(tmp_path):
    with pytest.raises(Interrupt):
        run(tmp_path / "out", stop_after=3)
    assert not (tmp_path / "out" / "squares.npy").exists()
    calls = []
    resumed = run(tmp_path / "out", calls=calls)
    assert calls == [3, 4, 5]
    assert not (tmp_path / "out" / runner.PARTIAL).exists()
    whole = run(tmp_path / "fresh")
    assert (tmp_path / "out" / "squares.npy").read_bytes() == (tmp_path / "fresh" / "squares.npy").read_bytes()
    assert np.array_equal(resumed.values, whole.values)


def test_a_second_process_on_the_folder_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    held = filelock.FileLock(str(tmp_path / "out" / runner.LOCK))
    held.acquire()
    try:
        with pytest.raises(UserError, match="another process is writing"):
            run(tmp_path / "out")
    finally:
        held.release()
    assert not (tmp_path / "out" / "settings.json").exists()


def test_outputs_never_replace_an_input(tmp_path):
    (tmp_path / "out").mkdir()
    source = tmp_path / "out" / "squares.npy"
    source.write_bytes(b"precious")
    with pytest.raises(UserError, match="would overwrite"):
        run(tmp_path / "out", reads=[str(source)])
    assert source.read_bytes() == b"precious"


def test_files_without_settings_are_not_overwritten(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "squares.npy").write_bytes(b"unknown")
    with pytest.raises(UserError, match="settings are unknown"):
        run(tmp_path / "out")
    assert (tmp_path / "out" / "squares.npy").read_bytes() == b"unknown"


def test_config_round_trips_through_the_manifest_form():
    config = SquaresConfig(n=3, offsets=(2, 5))
    assert runner.config_from_dict(SquaresConfig, runner.config_dict(config)) == config
    with pytest.raises(UserError, match="unknown SquaresConfig settings: size"):
        runner.config_from_dict(SquaresConfig, {"size": 3})


# A stage that collects: one file per item, later runs add items to the same folder.

@dataclasses.dataclass(frozen=True)
class PowersConfig:
    items: tuple = (1, 2)
    power: int = 2


def compute_powers(config, checkpoint, calls):
    calls.extend(config.items)
    return {i: np.asarray(i ** config.power) for i in config.items}


def write_powers(result, folder):
    for i, value in result.items():
        folder.write_npy(f"{{name}}_{i}.npy", value)


def read_powers(folder, config):
    return {i: np.load(folder.file(f"{{name}}_{i}.npy")) for i in config.items}


def powers_todo(config, folder):
    missing = tuple(i for i in config.items if not os.path.exists(folder.file(f"{{name}}_{i}.npy")))
    return dataclasses.replace(config, items=missing) if missing else None


POWERS = runner.Stage("powers", compute_powers, write_powers, read=read_powers, collects=("items",),
                      todo=powers_todo, outputs=lambda c: tuple(f"{{name}}_{i}.npy" for i in c.items),
                      manifest="{name}.settings.json", partial="{name}.partial", lock="{name}.lock")


def test_a_collecting_stage_adds_only_the_missing_items_and_reads_back_all(tmp_path):
    calls = []
    run_powers = functools.partial(runner.run, POWERS, inputs_identity=IDENTITY, calls=calls)
    assert {k: int(v) for k, v in run_powers(PowersConfig((1, 2)), tmp_path, name="sq").items()} == {1: 1, 2: 4}
    manifest = json.loads((tmp_path / "sq.settings.json").read_text())
    assert manifest["config"] == {"power": 2}  # the collected field is left out
    calls.clear()
    assert {k: int(v) for k, v in run_powers(PowersConfig((2, 3)), tmp_path, name="sq").items()} == {2: 4, 3: 9}
    assert calls == [3]
    calls.clear()
    run_powers(PowersConfig((3,)), tmp_path, name="sq")
    assert calls == []
    with pytest.raises(UserError, match="power"):
        run_powers(PowersConfig((4,), power=3), tmp_path, name="sq")
    run_powers(PowersConfig((1,), power=3), tmp_path, name="cube")  # another name: its own files beside
    assert sorted(os.listdir(tmp_path)) == ["cube.lock", "cube.settings.json", "cube_1.npy", "sq.lock",
                                            "sq.settings.json", "sq_1.npy", "sq_2.npy", "sq_3.npy"]


def test_a_checkpoint_gives_a_path_only_in_a_folder(tmp_path):
    assert runner.Checkpoint().path("store") is None
    assert runner.Checkpoint(str(tmp_path)).path("store") == str(tmp_path / "store")
