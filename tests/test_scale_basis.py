"""The basis ablation's batches as Ray tasks: byte-identical to one process, resumable, retried."""

import json
import os

import numpy as np
import pytest

from inception_tools.basis import ablation
from inception_tools.activations.pca import neuron_basis, pca_basis
from inception_tools.activations.sample import sample_activations
from inception_tools.basis.steps import spread
from inception_tools.cli import main
from inception_tools.data import load_dataset
from inception_tools.data.dataset import batch_ranges
from inception_tools.errors import UserError
from inception_tools.scale.basis import distributor
from inception_tools.scale.blocks import tasks_of
from inception_tools.scale.recipe import Recipe, select_images
from inception_tools.surgery import Network
from files import assert_same_bytes

LAYER = "mixed3a"


@pytest.fixture(scope="module")
def full(embedded_model):
    return load_dataset("embedded", embedded_model, limit=400)


@pytest.fixture(scope="module")
def digits(full):
    return spread(full, 90)  # a subset, as --ablation-images makes: the workers pick it by image id


@pytest.fixture(scope="module")
def net(embedded_model):
    return Network(embedded_model, LAYER)


@pytest.fixture(scope="module")
def study(net, full):
    sample = sample_activations(net, full, seed=1, batch_size=64)
    bases = {"pca": pca_basis(sample.layer), "neuron": neuron_basis(sample.layer)}
    return bases, ablation.make_variants(bases, [0, 1, 8, 96]), sample.mean


def interrupted_after(net, n_batches):
    """A ``distribute`` hook that runs the first ``n_batches`` here, then stops as Ctrl-C would."""
    def hook(job, dataset, batches):
        for batch in batches[:n_batches]:
            yield batch, job(net, dataset, *batch)
        raise KeyboardInterrupt
    return hook


def _bytes(outcomes):
    return [getattr(outcomes, name).tobytes() for name in ("top1", "topk", "logprob")]


def test_tasks_are_runs_of_consecutive_batches():
    batches = batch_ranges(0, 100, 10)
    assert tasks_of(batches, 1) == [batches[:3], batches[3:6], batches[6:9], batches[9:]]
    assert tasks_of(batches, 8) == [[b] for b in batches]
    assert max(map(len, tasks_of(batch_ranges(0, 10**4, 1), 1))) == 8


def test_workers_pick_the_drivers_images_by_id(full, digits):
    picked = select_images(full, digits.ids)
    assert picked.ids == digits.ids and picked.labels.tolist() == digits.labels.tolist()
    assert picked.images().tobytes() == digits.images().tobytes()
    assert select_images(full, full.ids) is full
    with pytest.raises(UserError, match="'digits:999' of the driver's data is not in the data on a Ray worker"):
        select_images(full, ["digits:999"])


def test_ray_ablation_resumes_a_checkpoint_byte_identically_and_retries_a_killed_worker(
        embedded_model, net, digits, study, local_ray, tmp_path):
    ray, crash = local_ray
    bases, variants, mean = study
    args = (net, digits, ablation.Ablator(bases, variants, mean), 3)
    one = ablation.batched_outcomes(*args, batch_size=16, workdir=str(tmp_path / "one"))
    workdir = str(tmp_path / "ray")
    with pytest.raises(KeyboardInterrupt):
        ablation.batched_outcomes(*args, batch_size=16, workdir=workdir,
                                  distribute=interrupted_after(net, 2))
    with open(os.path.join(workdir, "state.json")) as f:
        assert json.load(f)["images_done"] == 32
    runner = distributor(Recipe(embedded_model.name, embedded_model.path, LAYER, data="embedded", limit=400), ray)
    sent = []
    crash.write_text("")  # the first task started kills its worker once: Ray retries it
    spread_out = ablation.batched_outcomes(*args, batch_size=16, workdir=workdir,
                                           distribute=lambda *a: (sent.append(a[2]), runner(*a))[1])
    assert not crash.exists() and os.path.exists(f"{crash}.taken")
    assert sent == [batch_ranges(32, len(digits), 16)]
    assert _bytes(spread_out) == _bytes(one)
    with np.load(os.path.join(workdir, "outcomes.npz")) as saved, np.load(tmp_path / "one" / "outcomes.npz") as ref:
        assert all(saved[name].tobytes() == ref[name].tobytes() for name in ref.files)


def test_cli_basis_with_ray_writes_the_same_files(local_ray, tmp_path, capsys):
    base = ["basis", "--limit", "300", "--ablation-images", "70", "--ks", "1,4,32", "--vectors", "1",
            "--strip-points", "3", "--strip-k", "2"]
    assert main(base + ["--out", str(tmp_path / "one")]) == 0
    assert main(base + ["--out", str(tmp_path / "ray"), "--ray"]) == 0
    assert "image batches as Ray tasks on 2 CPUs" in capsys.readouterr().out
    names = assert_same_bytes(tmp_path / "one", tmp_path / "ray")
    assert "ablation.outcomes.npz" in names and "strips/pca_0001.png" in names
    assert not (tmp_path / "ray" / ".partial").exists()


@pytest.mark.slow
def test_inceptionv1_projections_are_byte_identical_on_workers(inceptionv1_path, imagenet_sample, local_ray):
    """Large projections (d = 508) run multi-threaded BLAS in a driver: BlockJob pins them to one thread."""
    from inception_tools.models import load_model

    ray, _ = local_ray
    model = load_model("InceptionV1", inceptionv1_path, layers=["mixed4a"])
    dataset = load_dataset(imagenet_sample, model, limit=40)
    net = Network(model, "mixed4a")
    sample = sample_activations(net, dataset, seed=0, batch_size=20)
    bases = {"pca": pca_basis(sample.layer, 32), "neuron": neuron_basis(sample.layer)}
    args = (net, dataset, ablation.Ablator(bases, ablation.make_variants(bases, [0, 16]), sample.mean), 10, 16)
    recipe = Recipe(model.name, model.path, "mixed4a", data=imagenet_sample, limit=40)
    one = ablation.batched_outcomes(*args)
    spread_out = ablation.batched_outcomes(*args, distribute=distributor(recipe, ray))
    assert _bytes(spread_out) == _bytes(one)
