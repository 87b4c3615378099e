"""The exact importance scan of a layer: its plan, engines, outcome store, table and reliability.

:func:`plan` checks what ``config`` asks of the model (the layer, top-k, the
principal components, the channels) before any long work, and records the
scan's settings: those ``importance.json`` keeps (:func:`settings`). :func:`exact`
fills the per-image outcome store (:mod:`.store`) in the checkpoint it is given
(:class:`inception_tools.runner.Checkpoint`): in a folder (the study runner's
``importance.partial/``: the channel means and accuracy as the group ``state``,
the store's memory-mapped files in ``store/``), a scan run again computes only the
missing records, whatever channel list it is given; in memory, it keeps nothing.

With ``until`` (a reliability target) the images are taken in a seeded
shuffled order, ``chunk`` at a time, and the scan stops once the split-half
reliability of the ``score`` measure, projected by Spearman-Brown to the
images done, reaches the target (or the images run out).

The table (:mod:`.table`), reliability (:mod:`.reliability`) and summary are
then made from the store; :mod:`.stage` writes them.
"""

import dataclasses
import functools
import hashlib
import logging
import os
import time
from typing import Optional

import numpy as np

from inception_tools import progress
from inception_tools.errors import UserError
from inception_tools.importance import reliability as rel
from inception_tools.activations.pca import check_components
from inception_tools.importance.directions import (DirectionEngine, ReferenceDirectionEngine, check_basis,
                                                   principal_directions)
from inception_tools.importance.measures import contributions
from inception_tools.importance.outcomes import baseline, channel_means, real_classes
from inception_tools.importance.store import OutcomeStore
from inception_tools.importance.table import channel_rows

log = logging.getLogger(__name__)
STORE = "store"  # the checkpoint's folder of the outcome store's memory-mapped files


def dataset_fingerprint(model, dataset):
    """sha256 of the model file, the image ids and the labels: what makes two scans comparable."""
    digest = hashlib.sha256()
    with open(model.path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    digest.update("\n".join(dataset.ids).encode())
    digest.update(np.asarray(dataset.labels, np.int64).tobytes())
    return digest.hexdigest()


def settings(net, dataset, top_k, ablation, order, directions=None):
    """What a scan's results depend on, as ``importance.json`` records them (and a folder made before the
    study runner is compared with: :mod:`.legacy`)."""
    return {
        "model": net.model.name,
        "layer": net.layer,
        "top_k": top_k,
        "ablation": ablation,
        "pixel_scaling": net.pixel_scaling,
        "resize": dataset.resize,
        "n_images": len(dataset),
        "image_order": order,
        "fingerprint": dataset_fingerprint(net.model, dataset),
        **({"basis": directions} if directions else {}),
    }


def _ablation_values(ablation, net, dataset, batch_size):
    """The values an ablated channel takes: its dataset mean, or zero (``ablation``, checked by the config)."""
    if ablation == "mean":
        return channel_means(net, dataset, batch_size)
    return np.zeros(net.model.depth(net.layer))


def new_store(folder, net, dataset, top_k, batch_size, n_rows=None):
    """An empty outcome store in ``folder`` (None: in memory), after the unablated pass.

    Args:
        n_rows: rows of the store (default: every channel of ``net.layer``; directions: one per direction).

    Returns:
        ``(store, baseline)``.
    """
    real_logp = None
    if folder is not None:
        os.makedirs(folder, exist_ok=True)
        real_logp = OutcomeStore.real_logp_file(folder, len(dataset), int(real_classes(net.model).sum()))
    base = baseline(net, dataset, top_k, batch_size, real_logp)
    n_rows = net.model.depth(net.layer) if n_rows is None else n_rows
    arrays = {"labels": dataset.labels, "base_correct": base.correct, "base_logprob": base.logprob,
              "image_index": dataset.order, "ids": np.asarray(dataset.ids, dtype=str)}
    if folder is None:
        return OutcomeStore.in_memory(n_rows, arrays, base.real_logp), base
    return OutcomeStore.create(folder, n_rows, arrays), base


def engine_for(name, net, dataset, values, top_k, batch_size, **options):
    """The engine called ``name`` ("fast" or "reference"); ``options`` go to the fast engine."""
    from inception_tools.importance.fast import FastEngine
    from inception_tools.importance.outcomes import ReferenceEngine

    if name == "reference":
        return ReferenceEngine(net, dataset, values, top_k, batch_size, **options)
    if name == "fast":
        return FastEngine(net, dataset, values, top_k, batch_size, **options)
    raise UserError(f"unknown method {name!r}; use fast or reference")


def _start(checkpoint, net, dataset, top_k, ablation, batch_size, principal=None, values=None):
    """The scan's state and store: loaded from ``checkpoint``, or computed once (means, principal components,
    unablated pass).

    ``principal``: for a direction scan, a callable that computes the principal directions (called only
    when the state is computed). ``values``: the ablated channels' values when they come from elsewhere
    (an estimated scan's whole dataset).
    """
    folder = checkpoint.path(STORE)
    state = checkpoint.load("state")
    store = None if folder is None else OutcomeStore.resume(folder)
    if state is None or store is None:
        values = _ablation_values(ablation, net, dataset, batch_size) if values is None else values
        state = {"values": values}
        if principal is not None:
            pcs = principal()
            state.update(vectors=pcs.vectors, variances=pcs.variances, total_variance=pcs.total_variance,
                         sample_center=pcs.center)
        n_rows = state["vectors"].shape[1] if principal is not None else None
        store, base = new_store(folder, net, dataset, top_k, batch_size, n_rows)
        state["accuracy"] = np.array([base.accuracy[f"top{k}"] for k in (1, 5, 10)])
        checkpoint.save("state", **state)
    return state, store


def _engine(name, net, dataset, state, top_k, batch_size, shortcut, directions):
    if not directions:
        options = {"shortcut": shortcut} if name == "fast" else {}
        return engine_for(name, net, dataset, state["values"], top_k, batch_size, **options)
    if name == "reference":
        return ReferenceDirectionEngine(net, dataset, state["vectors"], state["values"], top_k, batch_size)
    if name == "fast":
        return DirectionEngine(net, dataset, state["vectors"], state["values"], top_k, batch_size)
    raise UserError(f"unknown method {name!r}; use fast or reference")


def _directions(basis, components, basis_seed, net, dataset):
    """The scan's direction settings (None for channels), checked before any work."""
    if basis is None:
        return None
    check_basis(basis)
    depth = net.model.depth(net.layer)
    components = depth if components is None else components
    check_components(components, len(dataset), depth)
    return {"kind": basis, "components": components, "seed": basis_seed,
            "sample": "layer output, one random position per image"}


def directions_arrays(state, directions):
    """The principal components a direction scan scored, as saved beside its table
    (:func:`inception_tools.activations.pca.load_basis` reads them; ``mean``: the centre the rows are ablated to)."""
    return {"kind": np.asarray(directions["kind"]), "vectors": state["vectors"], "variances": state["variances"],
            "total_variance": np.asarray(float(state["total_variance"])), "center": state["sample_center"],
            "mean": state["values"]}


def describe_directions(state, directions, rows, summary):
    """A direction scan's extra columns in ``rows`` and its ``summary["basis"]``."""
    explained = np.cumsum(state["variances"]) / float(state["total_variance"])
    summary["basis"] = dict(directions, explained_variance=float(explained[-1]))
    for row in rows:
        k = row["feature_ind"]
        row.update(basis=directions["kind"], variance=repr(float(state["variances"][k])),
                   explained_variance_ratio=repr(float(state["variances"][k] / state["total_variance"])))


def scan(engine, store, channels, until=None, score="importance", chunk=250, splits=20, report=None):
    """Fill ``store`` for ``channels`` (all images, or until reliable); return the trajectory.

    The trajectory lists (images, split-half rho, projected reliability) after each chunk when ``until`` is set.
    """
    n = len(engine.dataset)
    rows = [store.row_of[c] for c in channels]
    trajectory = []
    stops = [n] if until is None else list(range(min(chunk, n), n, chunk)) + [n]
    with progress.bar(total=len(channels) * n, unit="img", desc=f"{engine.name} {engine.net.layer}") as bar:
        done = 0
        for stop in stops:
            engine.fill(store, channels, done, stop, bar.update)
            done = stop
            if until is not None and stop >= 4:
                half = rel.split_half(contributions(store, score, rows, slice(0, stop)), splits)
                trajectory.append({"images": stop, "rho": half["rho"], "projected": half["spearman_brown"]})
                (report or log.info)(f"until reliable: {stop} images, split-half rho {half['rho']:.3f}, "
                                     f"projected {half['spearman_brown']:.3f} (target {until})")
                if half["spearman_brown"] >= until:
                    break
    return trajectory


@dataclasses.dataclass
class Plan:
    """What a scan will do, checked against the model before any long work.

    Attributes:
        settings: what the results depend on (:func:`settings`; an estimated scan adds its ``estimator``).
        channels: the rows scored (channels, or principal components with ``directions``).
        directions: a direction scan's settings (None for channels).
        dataset: the images in the order they are scanned; sample: the images the principal components
            are computed from (the dataset's own order).
    """

    settings: dict
    channels: list
    directions: Optional[dict]
    dataset: object
    sample: object

    @property
    def top_k(self):
        return self.settings["top_k"]


def plan(net, dataset, config):
    """The :class:`Plan` of ``config`` on ``net.layer`` over ``dataset``: every check that needs the model or
    the data (layer, top-k, components, channels) is made here, before any pass over the images.

    Raises:
        UserError: the layer cannot be ablated, top-k exceeds the classes, or a channel or component is out
            of range.
    """
    model = net.model
    model.check_layer(net.layer, "ablate")
    top_k = model.check_top_k(model.default_top_k if config.top_k is None else config.top_k)
    directions = _directions(config.basis, config.components, config.basis_seed, net, dataset)
    depth = directions["components"] if directions else model.depth(net.layer)
    channels = list(range(depth)) if config.channels is None else list(config.channels)
    bad = [c for c in channels if not 0 <= c < depth]
    if bad and directions:
        raise UserError(f"component {bad[0]} out of range: {depth} components")
    if bad:
        raise UserError(f"channel {bad[0]} out of range: {net.layer} has channels 0-{depth - 1}")
    sample, order = dataset, "dataset"
    if config.until is not None and config.estimator == "exact":  # an estimator grows its own exact subsample
        dataset = dataset.reordered(np.random.default_rng(config.shuffle_seed).permutation(len(dataset)))
        order = f"shuffled, seed {config.shuffle_seed}"
    found = settings(net, dataset, top_k, config.ablation, order, directions)
    if config.estimator != "exact":
        from inception_tools.importance.estimated import estimator_settings

        found["estimator"] = estimator_settings(config)
    return Plan(found, channels, directions, dataset, sample)


def exact(net, plan, config, checkpoint, report, meta=None, distribute=None):
    """The exact scan of ``plan`` (see the module docstring), resumable from ``checkpoint``.

    Returns:
        ``(rows, summary, store, directions)``: the table's rows, ``importance.json``'s contents, the
        outcomes of the scored rows and images, and a direction scan's components (:func:`directions_arrays`;
        None for channels).
    """
    dataset, channels, directions, top_k = plan.dataset, plan.channels, plan.directions, plan.top_k
    started = time.time()
    principal = None if not directions else functools.partial(
        principal_directions, net, plan.sample, directions["components"], directions["seed"], config.batch_size)
    state, store = _start(checkpoint, net, dataset, top_k, config.ablation, config.batch_size, principal)
    engine = _engine(config.engine, net, dataset, state, top_k, config.batch_size, config.shortcut, directions)
    if distribute is not None:
        engine = distribute(engine)
    rows = [store.row_of[c] for c in channels]
    already = len(channels) * len(dataset) - store.n_pending(rows, 0, len(dataset))
    if already:
        report(f"resuming: {already} of {len(channels) * len(dataset)} channel-images already scored")
    report(engine.describe(len(channels), len(dataset)))
    trajectory = scan(engine, store, channels, config.until, config.score, config.chunk, config.splits, report)
    n_used = trajectory[-1]["images"] if trajectory else len(dataset)
    view = store.view(channels, n_used)
    reliability, bounds = rel.assess(view, config.splits, config.seed, config.resamples)
    summary = dict(plan.settings, n_images_used=n_used,
                   dataset_skipped=getattr(dataset, "skipped", 0), channels=len(channels),
                   accuracy=dict(zip(("top1", "top5", "top10"), map(float, state["accuracy"]))),
                   method=config.engine, seconds=round(time.time() - started, 1), reliability=reliability, **(meta or {}))
    if config.until is not None:
        summary["until_reliable"] = {"target": config.until, "score": config.score, "chunk": config.chunk,
                                     "trajectory": trajectory}
    result_rows = channel_rows(view, net.model.name, net.layer, bounds)
    if directions:
        describe_directions(state, directions, result_rows, summary)
    for name in reliability["measures"]:
        report("reliability: " + rel.summary_line(reliability, name))
    return result_rows, summary, view, directions_arrays(state, directions) if directions else None
