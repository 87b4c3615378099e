"""A resumable importance scan of a layer, its table and its reliability.

:func:`scan` fills the per-image outcome store of a scan (:mod:`.store`) in
``<out>.partial/``: settings (``config.json``), channel means and accuracy
(``state.npz``) and the records. The same call, run again, checks the settings
match and computes only the missing records, whatever channel list it is
given. A lock keeps a second scan out of the same partial folder.

With ``until`` (a reliability target) the images are taken in a seeded
shuffled order, ``chunk`` at a time, and the scan stops once the split-half
reliability of the ``score`` measure, projected by Spearman-Brown to the
images done, reaches the target (or the images run out).

:func:`score_layer` runs the scan, then tabulates (:mod:`.table`), measures
reliability (:mod:`.reliability`), writes ``importance.csv``, its ``.json``
summary and the outcome files atomically, and removes the partial folder, so
an interrupted-and-resumed scan ends with the same files as an uninterrupted one.
"""

import dataclasses
import functools
import glob
import hashlib
import json
import logging
import os
import shutil
import time

import filelock
import numpy as np

from inception_tools import progress
from inception_tools import layout
from inception_tools.atomic import atomic_open, atomic_path
from inception_tools.errors import UserError
from inception_tools.importance import reliability as rel
from inception_tools.activations.pca import Basis, check_components, save_basis
from inception_tools.importance.directions import (DirectionEngine, ReferenceDirectionEngine, check_basis,
                                                   principal_directions)
from inception_tools.importance.measures import contributions
from inception_tools.importance.outcomes import baseline, channel_means, real_classes
from inception_tools.importance.store import OutcomeStore
from inception_tools.importance.table import COLUMNS, DIRECTION_COLUMNS, channel_rows, write_csv

log = logging.getLogger(__name__)


def dataset_fingerprint(model, dataset):
    """sha256 of the model file, the image ids and the labels: what makes two scans comparable."""
    digest = hashlib.sha256()
    with open(model.path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    digest.update("\n".join(dataset.ids).encode())
    digest.update(np.asarray(dataset.labels, np.int64).tobytes())
    return digest.hexdigest()


def _config(net, dataset, top_k, ablation, order, directions=None):
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


class Partial:
    """The partial folder of one scan, locked while this object lives."""

    def __init__(self, out_csv, config):
        self.dir = os.fspath(out_csv) + ".partial"
        os.makedirs(self.dir, exist_ok=True)
        self._lock = filelock.FileLock(os.path.join(self.dir, "lock"))
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            raise UserError(f"another scan is writing {self.dir}; wait for it to finish or choose another output") \
                from None
        self._remove_stale_temporaries(out_csv)
        config_path = os.path.join(self.dir, "config.json")
        if os.path.isfile(config_path):
            with open(config_path) as f:
                saved = json.load(f)
            if saved != config:
                changed = sorted(k for k in {**saved, **config} if saved.get(k) != config.get(k))
                self.release()
                raise UserError(f"{self.dir} holds an unfinished scan with other settings ({', '.join(changed)}); "
                                "delete it or choose another output")
        else:
            with atomic_open(config_path) as f:
                json.dump(config, f, indent=1)

    def _remove_stale_temporaries(self, out_csv):
        """Temporary files a killed run left (safe: the lock says no one else writes these)."""
        stale = glob.glob(os.path.join(glob.escape(self.dir), ".*.tmp"))
        folder = os.path.dirname(os.path.abspath(out_csv))
        for target in (out_csv, layout.summary_json(out_csv), *layout.outcome_files(out_csv),
                       layout.directions_file(out_csv)):
            stale += glob.glob(os.path.join(glob.escape(folder), "." + glob.escape(os.path.basename(target)) + ".*.tmp"))
        for path in stale:
            os.remove(path)

    def load_state(self):
        path = os.path.join(self.dir, "state.npz")
        if not os.path.isfile(path):
            return None
        with np.load(path, allow_pickle=False) as state:
            return {key: state[key] for key in state.files}

    def save_state(self, **arrays):
        with atomic_path(os.path.join(self.dir, "state.npz")) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

    def release(self):
        self._lock.release()

    def remove(self):
        self.release()
        shutil.rmtree(self.dir)


def _ablation_values(ablation, net, dataset, batch_size):
    """The values an ablated channel takes: its dataset mean, or zero (``ablation``, checked by the config)."""
    if ablation == "mean":
        return channel_means(net, dataset, batch_size)
    return np.zeros(net.model.depth(net.layer))


def new_store(folder, net, dataset, top_k, batch_size, n_rows=None):
    """An empty outcome store in ``folder``, after the unablated pass.

    Args:
        n_rows: rows of the store (default: every channel of ``net.layer``; directions: one per direction).

    Returns:
        ``(store, baseline)``.
    """
    base = baseline(net, dataset, top_k, batch_size, OutcomeStore.real_logp_file(folder, len(dataset),
                                                                               int(real_classes(net.model).sum())))
    n_rows = net.model.depth(net.layer) if n_rows is None else n_rows
    store = OutcomeStore.create(folder, n_rows, {
        "labels": dataset.labels, "base_correct": base.correct, "base_logprob": base.logprob,
        "image_index": dataset.order, "ids": np.asarray(dataset.ids, dtype=str)})
    return store, base


def engine_for(name, net, dataset, values, top_k, batch_size, **options):
    """The engine called ``name`` ("fast" or "reference"); ``options`` go to the fast engine."""
    from inception_tools.importance.fast import FastEngine
    from inception_tools.importance.outcomes import ReferenceEngine

    if name == "reference":
        return ReferenceEngine(net, dataset, values, top_k, batch_size, **options)
    if name == "fast":
        return FastEngine(net, dataset, values, top_k, batch_size, **options)
    raise UserError(f"unknown method {name!r}; use fast or reference")


def _start(partial, net, dataset, top_k, ablation, batch_size, principal=None, values=None):
    """The scan's state and store: loaded, or computed once (means, principal components, unablated pass).

    ``principal``: for a direction scan, a callable that computes the principal directions (called only
    when the state is computed). ``values``: the ablated channels' values when they come from elsewhere
    (an estimated scan's whole dataset).
    """
    state = partial.load_state()
    store = OutcomeStore.resume(partial.dir)
    if state is None or store is None:
        values = _ablation_values(ablation, net, dataset, batch_size) if values is None else values
        state = {"values": values}
        if principal is not None:
            pcs = principal()
            state.update(vectors=pcs.vectors, variances=pcs.variances, total_variance=pcs.total_variance,
                         sample_center=pcs.center)
        n_rows = state["vectors"].shape[1] if principal is not None else None
        store, base = new_store(partial.dir, net, dataset, top_k, batch_size, n_rows)
        state["accuracy"] = np.array([base.accuracy[f"top{k}"] for k in (1, 5, 10)])
        partial.save_state(**state)
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


def save_directions(state, directions, csv_path):
    """The principal components of a direction scan, beside its CSV (:func:`inception_tools.activations.pca.load_basis`)."""
    return save_basis(Basis(directions["kind"], state["vectors"], state["variances"], float(state["total_variance"]),
                            state["sample_center"]), layout.directions_file(csv_path), mean=state["values"])


def describe_directions(state, directions, rows, summary, csv_path):
    """A direction scan's extra columns in ``rows``, its ``summary["basis"]``, and its components saved."""
    explained = np.cumsum(state["variances"]) / float(state["total_variance"])
    summary["basis"] = dict(directions, explained_variance=float(explained[-1]))
    for row in rows:
        k = row["feature_ind"]
        row.update(basis=directions["kind"], variance=repr(float(state["variances"][k])),
                   explained_variance_ratio=repr(float(state["variances"][k] / state["total_variance"])))
    save_directions(state, directions, csv_path)


@dataclasses.dataclass
class ScanResult:
    """A finished scan: its table rows, its summary (importance.json) and its per-image outcomes."""

    rows: list
    summary: dict
    store: OutcomeStore

    def column(self, name):
        """One CSV column as a float array, in channel order."""
        return np.array([float(r[name]) for r in sorted(self.rows, key=lambda r: r["feature_ind"])])

    @property
    def columns(self):
        """Every numeric CSV column: name -> float array, in channel order."""
        return {name: self.column(name) for name in COLUMNS if name not in ("model", "layer")}

    def in_memory(self):
        """The same result with its per-image outcomes copied into memory (its files may then go)."""
        store = self.store
        if store is None:
            return self
        copied = OutcomeStore(np.array(store.records), store.channels, {
            "labels": store.labels, "base_correct": store.base_correct, "base_logprob": store.base_logprob,
            "image_index": store.image_index, "ids": store.ids},
            None if store.base_real_logp is None else np.asarray(store.base_real_logp))
        return dataclasses.replace(self, store=copied)


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


def score_layer(net, dataset, config, out_csv, meta=None, report=None, distribute=None):
    """Score the channels ``config`` names of ``net.layer`` over ``dataset``; write ``out_csv``, its summary
    and outcomes.

    Args:
        config: an :class:`~inception_tools.importance.config.ImportanceConfig`.
        meta: extra entries for the summary.
        report: callable for one-line messages (default: this module's logger).
        distribute: optional ``engine -> engine`` wrapper whose ``fill`` spreads the work, e.g.
            :func:`inception_tools.scale.importance.distributor` (Ray).

    Returns:
        :class:`ScanResult`.
    """
    report = report or log.info
    model = net.model
    model.check_layer(net.layer, "ablate")
    top_k = model.check_top_k(model.default_top_k if config.top_k is None else config.top_k)
    for path in (out_csv, layout.summary_json(out_csv), *layout.outcome_files(out_csv)):
        if os.path.isdir(path):
            raise UserError(f"cannot write {path}: it is a folder")
    directions = _directions(config.basis, config.components, config.basis_seed, net, dataset)
    channels = None if config.channels is None else list(config.channels)
    if channels is None:
        channels = list(range(directions["components"] if directions else model.depth(net.layer)))
    if directions and max(channels) >= directions["components"]:
        raise UserError(f"component {max(channels)} out of range: {directions['components']} components")
    sample_dataset = dataset
    order = "dataset"
    if config.until is not None and config.estimator == "exact":  # an estimator grows its own exact subsample
        dataset = dataset.reordered(np.random.default_rng(config.shuffle_seed).permutation(len(dataset)))
        order = f"shuffled, seed {config.shuffle_seed}"
    settings = _config(net, dataset, top_k, config.ablation, order, directions)
    if config.estimator != "exact":
        from inception_tools.importance import estimated

        settings["estimator"] = estimated.estimator_settings(config)
        rows, summary = estimated.score(net, dataset, config, out_csv, settings, report, meta, distribute)
        store = OutcomeStore.open(out_csv) if config.estimator == "control-variate" else None
        return ScanResult(rows, summary, store)
    partial = Partial(out_csv, settings)
    started = time.time()
    principal = None if not directions else functools.partial(
        principal_directions, net, sample_dataset, directions["components"], directions["seed"], config.batch_size)
    state, store = _start(partial, net, dataset, top_k, config.ablation, config.batch_size, principal)
    runner = _engine(config.engine, net, dataset, state, top_k, config.batch_size, config.shortcut, directions)
    if distribute is not None:
        runner = distribute(runner)
    rows = [store.row_of[c] for c in channels]
    already = len(channels) * len(dataset) - store.n_pending(rows, 0, len(dataset))
    if already:
        report(f"resuming: {already} of {len(channels) * len(dataset)} channel-images already scored")
    report(runner.describe(len(channels), len(dataset)))
    trajectory = scan(runner, store, channels, config.until, config.score, config.chunk, config.splits, report)
    n_used = trajectory[-1]["images"] if trajectory else len(dataset)
    view = store.view(channels, n_used)
    reliability, bounds = rel.assess(view, config.splits, config.seed, config.resamples)
    summary = dict(settings, n_images_used=n_used,
                   dataset_skipped=getattr(dataset, "skipped", 0), channels=len(channels),
                   accuracy=dict(zip(("top1", "top5", "top10"), map(float, state["accuracy"]))),
                   method=config.engine, seconds=round(time.time() - started, 1), reliability=reliability, **(meta or {}))
    if config.until is not None:
        summary["until_reliable"] = {"target": config.until, "score": config.score, "chunk": config.chunk,
                                     "trajectory": trajectory}
    result_rows = channel_rows(view, model.name, net.layer, bounds)
    if directions:
        describe_directions(state, directions, result_rows, summary, out_csv)
    view.save(out_csv, channels, n_used)
    write_csv(result_rows, out_csv, DIRECTION_COLUMNS if directions else ())
    with atomic_open(layout.summary_json(out_csv)) as f:
        json.dump(summary, f, indent=1)
    partial.remove()
    for name in reliability["measures"]:
        report("reliability: " + rel.summary_line(reliability, name))
    return ScanResult(result_rows, summary, OutcomeStore.open(out_csv))
