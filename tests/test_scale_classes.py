"""The class statistics' pass as Ray tasks: byte-identical to one process, resumable, retried."""

import os

import numpy as np
import pytest

from inception_tools.classes.config import ClassesConfig
from inception_tools.classes.collect import CHECKPOINT, collect
from inception_tools.runner import Checkpoint
from inception_tools.classes.stats import ClassAccumulator
from inception_tools.cli import main
from inception_tools.data import load_dataset
from inception_tools.scale.classes import distributor, recipe_of
from inception_tools.surgery import Network
from files import assert_same_bytes

LAYERS = ["conv2d0", "mixed3a"]
N_IMAGES = 300


@pytest.fixture(scope="module")
def digits(embedded_model):
    return load_dataset("embedded", embedded_model, limit=N_IMAGES)


def _collect(model, dataset, out_dir, distribute=None):
    config = ClassesConfig(tuple(LAYERS), replicates=15, batch_size=40)
    os.makedirs(out_dir, exist_ok=True)
    return collect(model, dataset, config, list(range(10)), Checkpoint(str(out_dir)), distribute)


def _state(stats, seen, kept):
    arrays = [seen.tobytes(), kept.tobytes()]
    return arrays + [getattr(stats[layer], field).tobytes() for layer in LAYERS for field in ClassAccumulator.FIELDS]


def test_ray_pass_resumes_a_saved_state_byte_identically_and_retries_a_killed_worker(
        embedded_model, digits, local_ray, tmp_path):
    ray, crash = local_ray
    one = _collect(embedded_model, digits, tmp_path / "one")
    net = Network(embedded_model, LAYERS[0])

    def interrupted(job, dataset, batches):  # two batches here, then Ctrl-C
        for batch in batches[:2]:
            yield batch, job(net, dataset, *batch)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _collect(embedded_model, digits, tmp_path / "ray", distribute=interrupted)
    with np.load(tmp_path / "ray" / (CHECKPOINT + ".npz")) as state:
        assert int(state["next"]) == 80
    runner = distributor(recipe_of(embedded_model, LAYERS, "embedded", limit=N_IMAGES), ray)
    sent = []
    crash.write_text("")  # the first task started kills its worker once: Ray retries it
    spread_out = _collect(embedded_model, digits, tmp_path / "ray",
                          distribute=lambda *a: (sent.append(a[2]), runner(*a))[1])
    assert not crash.exists() and os.path.exists(f"{crash}.taken")
    assert sent[0][0] == (80, 120) and sent[0][-1] == (280, 300)
    assert _state(*spread_out[:3]) == _state(*one[:3])
    assert (tmp_path / "ray" / (CHECKPOINT + ".npz")).read_bytes() == (tmp_path / "one" / (CHECKPOINT + ".npz")).read_bytes()


def test_cli_classes_with_ray_writes_the_same_files(local_ray, tmp_path, capsys):
    base = ["classes", "--layers", "conv2d0,mixed4a", "--limit", str(N_IMAGES), "--bootstrap", "10",
            "--batch-size", "32"]
    assert main(base + ["--out", str(tmp_path / "one")]) == 0
    assert main(base + ["--out", str(tmp_path / "ray"), "--ray"]) == 0
    assert "classes: image batches as Ray tasks on 2 CPUs" in capsys.readouterr().out
    names = assert_same_bytes(tmp_path / "one", tmp_path / "ray")
    assert "stats.npz" in names and "matrices/mixed4a_jaccard.csv" in names
