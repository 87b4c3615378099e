"""The batches of a one-pass scan as Ray tasks, their results handed back in batch order.

The basis ablation (:mod:`.basis`) and the class statistics (:mod:`.classes`)
go over their images once, batch by batch, and fold each batch's result into
their resumable state. Their loops take a ``distribute`` hook: given the
scan's *job* (a picklable callable ``job(net, dataset, start, stop)`` that
computes one batch: the very object a one-process run calls), the dataset
and the batches still to do, it yields ``(batch, result)`` in batch order.
:class:`BlockRunner` is that hook on Ray:

- tasks: runs of consecutive batches, about ``TASKS_PER_CPU`` tasks per CPU
  of the cluster and at most ``MAX_BATCHES_PER_TASK`` batches each (an even
  load, a progress bar that moves, cheap retries); the job and the image ids
  go into Ray's object store once;
- a worker loads the model and the data from the recipe and builds its
  network once per process, takes the driver's images by id (all of them,
  or a subset such as ``--ablation-images``), checks them against the
  driver's digest and calls the job on each of its batches: the same
  batches, hence the same session runs, as one process makes;
- the driver keeps results that arrive early until those before them are in
  and yields them in batch order, so the scan folds and checkpoints them
  exactly as one process would. An interrupted run resumes after the last
  batch saved; results in flight then are computed again.
"""

import uuid

import numpy as np

from inception_tools.scale import ray_session
from inception_tools.scale.recipe import Recipe, check_same_images, images_digest, load, select_images

TASKS_PER_CPU = 4
MAX_BATCHES_PER_TASK = 8

_INPUTS = {}  # per worker process: the last (recipe, token)'s network and images


def _inputs(recipe, context):
    key = (recipe, context["token"])
    if key not in _INPUTS:
        from inception_tools.surgery import Network

        for net, _ in _INPUTS.values():
            net.close()
        _INPUTS.clear()
        model, dataset = load(recipe)
        dataset = select_images(dataset, context["ids"])
        check_same_images(dataset, context["digest"], "a Ray worker")
        _INPUTS[key] = Network(model, recipe.layer, pixel_scaling=recipe.pixel_scaling), dataset
    return _INPUTS[key]


def run_batches(recipe: Recipe, context: dict, batches: list):
    """A Ray task: ``[job(net, dataset, b0, b1) for (b0, b1) in batches]`` with the context's job."""
    ray_session.crash_once_if_armed()
    net, dataset = _inputs(recipe, context)
    return [context["job"](net, dataset, b0, b1) for b0, b1 in batches]


def tasks_of(batches, cpus):
    """``batches`` in runs of consecutive ones: about ``TASKS_PER_CPU`` per CPU, ``MAX_BATCHES_PER_TASK`` at most."""
    size = min(MAX_BATCHES_PER_TASK, max(1, -(-len(batches) // (TASKS_PER_CPU * cpus))))
    return [list(batches[i:i + size]) for i in range(0, len(batches), size)]


class BlockRunner:
    """The ``distribute`` hook of a one-pass scan on Ray (see the module docstring)."""

    def __init__(self, recipe: Recipe, ray):
        self.recipe = recipe
        self.ray = ray
        self.cpus = ray_session.cluster_cpus(ray)
        self._task = ray_session.remote(ray, run_batches)

    def __str__(self):
        return f"image batches as Ray tasks on {self.cpus} CPUs"

    def __call__(self, job, dataset, batches):
        """Yield ``(batch, job's result)`` for ``batches`` of ``dataset``, in their order."""
        if not batches:
            return
        context = self.ray.put({"job": job, "ids": np.asarray(dataset.ids, dtype=str), "token": uuid.uuid4().hex,
                                "digest": images_digest(dataset.ids, dataset.labels)})
        pieces = tasks_of(batches, self.cpus)
        tasks = {self._task.remote(self.recipe, context, piece): n for n, piece in enumerate(pieces)}
        completed = ray_session.as_completed(self.ray, tasks)
        arrived, following = {}, 0
        try:
            for n, results in completed:
                arrived[n] = results
                while following in arrived:
                    yield from zip(map(tuple, pieces[following]), arrived.pop(following))
                    following += 1
        finally:
            completed.close()
