"""An importance scan's channels as Ray tasks, merged into the scan's partial store.

:func:`distributor` returns the hook :func:`inception_tools.importance.stage.compute`
takes as ``distribute``: it wraps the scan's engine in a :class:`RayEngine`, whose
``fill`` does what the engine's own does, piece by piece on Ray workers.

Pieces. The fast engine computes the layer once per image batch for all the
channels it is given, so splitting the channels into ``k`` shards costs ``k``
passes of the network up to the layer. The channels are therefore split into
one shard per CPU of the cluster, and each shard's images into
``blocks_per_shard`` blocks of whole batches: a piece (shard, block) is one
task, small enough for an even load, a fine progress bar and cheap retries,
while the layer is computed ``CPUs`` times per image in all.

Byte-identical to one process: the fast engine runs channels in groups (one
session run per group and image batch), and the group size depends on the
channel count and free memory. The driver plans the groups once for the whole
channel list, as the one-process ``fill`` would, makes each shard a run of
whole groups, starts each block on a batch boundary and tells the workers the
group size, so every session run has the same inputs as in one process. A
worker builds the same engine (method, top-k, batch size, shortcut, the
driver's imputed values), fills an in-memory store for its piece against the
driver's per-image baseline and returns the records; the driver writes the
records still pending into the partial store (values first, the outcome byte
last, as the engines do) and flushes, so an interrupted run resumes from the
pieces that arrived."""

import dataclasses
import uuid
from typing import Optional

import numpy as np

from inception_tools.importance.store import PENDING, RECORD, OutcomeStore
from inception_tools.scale import ray_session
from inception_tools.scale.recipe import Recipe, check_same_images, images_digest, load

BLOCKS_PER_SHARD = 4  # image blocks per channel shard: balanced load, finer progress, smaller retries


@dataclasses.dataclass(frozen=True)
class EngineSpec:
    """How a worker builds the driver's engine (``token`` names the driver's values and baseline)."""

    name: str
    top_k: int
    batch_size: int
    label_free: bool
    shortcut: bool
    group: Optional[int]
    token: str


def spec_of(engine, group) -> EngineSpec:
    """The :class:`EngineSpec` of a fast or reference ``engine``; ``group``: channels per session run."""
    suffix = getattr(engine, "suffix", None)
    return EngineSpec(engine.name, engine.top_k, engine.batch_size, engine.label_free,
                      bool(suffix is not None and suffix.uses_shortcut), group, uuid.uuid4().hex)


class ShardStore(OutcomeStore):
    """A worker's store of one shard: records in memory (nothing to flush), the driver's baseline."""

    def flush(self):
        pass


_ENGINE = {}  # per worker process: the last (recipe, spec)'s engine


def _worker_engine(recipe, spec, context):
    key = (recipe, spec)
    if key not in _ENGINE:
        from inception_tools.importance.run import engine_for
        from inception_tools.surgery import Network

        _ENGINE.clear()
        model, dataset = load(recipe)
        dataset = dataset.reordered(context["order"])
        check_same_images(dataset, context["digest"], "a Ray worker")
        net = Network(model, recipe.layer, pixel_scaling=recipe.pixel_scaling)
        if context["vectors"] is not None:  # principal components (importance/directions.py)
            from inception_tools.importance.directions import DirectionEngine, ReferenceDirectionEngine

            options = {"group": spec.group} if spec.name == "fast" else {}
            kind = DirectionEngine if spec.name == "fast" else ReferenceDirectionEngine
            _ENGINE[key] = kind(net, dataset, context["vectors"], context["values"], spec.top_k, spec.batch_size,
                                label_free=spec.label_free, **options)
        else:
            options = {"shortcut": spec.shortcut, "group": spec.group} if spec.name == "fast" else {}
            _ENGINE[key] = engine_for(spec.name, net, dataset, context["values"],
                                      spec.top_k, spec.batch_size, label_free=spec.label_free, **options)
    return _ENGINE[key]


def fill_shard(recipe: Recipe, spec: EngineSpec, context: dict, channels: list, start: int, stop: int):
    """A Ray task: the records [len(channels), stop - start] of ``channels`` for images ``start:stop``.

    The worker's engine (model, data, network: loaded from ``recipe``) is kept for the next task.
    """
    ray_session.crash_once_if_armed()
    engine = _worker_engine(recipe, spec, context)
    records = np.zeros((len(channels), len(context["base"]["labels"])), RECORD)
    store = ShardStore(records, channels, context["base"], context["real_logp"])
    engine.fill(store, channels, start, stop)
    return np.ascontiguousarray(store.records[:, start:stop])


def merge(store, channels, start, records):
    """Write ``records`` of ``channels`` from image ``start`` where ``store`` has them pending; flush."""
    rows = [store.row_of[c] for c in channels]
    columns = slice(start, start + records.shape[1])
    pending = store.records["outcome"][rows, columns] == PENDING
    for name in ("delta_logprob", "kl", "l1"):
        store.records[name][rows, columns] = np.where(pending, records[name], store.records[name][rows, columns])
    store.records["outcome"][rows, columns] = np.where(pending, records["outcome"],
                                                       store.records["outcome"][rows, columns])
    store.flush()


def shards(groups, n_shards):
    """Split the list ``groups`` (each a list of channels) into at most ``n_shards`` runs of whole groups."""
    n_shards = max(1, min(n_shards, len(groups)))
    bounds = np.linspace(0, len(groups), n_shards + 1).round().astype(int)
    return [[c for group in groups[a:b] for c in group] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


class RayEngine:
    """An engine whose ``fill`` runs the wrapped engine's work as Ray tasks (see the module docstring).

    Everything but ``fill`` and ``describe`` is the wrapped engine's (``dataset``, ``net``, ``name``...).
    """

    def __init__(self, engine, recipe: Recipe, ray, blocks_per_shard: int = BLOCKS_PER_SHARD):
        self.engine = engine
        self.recipe = recipe
        self.ray = ray
        self.cpus = ray_session.cluster_cpus(ray)
        self.blocks_per_shard = blocks_per_shard
        self._task = ray_session.remote(ray, fill_shard)
        self._context = None
        self._spec = None

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def _group(self, n_channels):
        return self.engine.plan(n_channels)[0] if hasattr(self.engine, "plan") else 1

    def describe(self, n_channels, n_images):
        return (f"{self.engine.describe(n_channels, n_images)}; channel shards as Ray tasks "
                f"on {self.cpus} CPUs")

    def _context_ref(self, store, group):
        """The driver's values, image order and baseline, put once into Ray's object store."""
        if self._context is None or self._spec.group != group:
            dataset = self.engine.dataset
            base = {"labels": store.labels, "base_correct": store.base_correct, "base_logprob": store.base_logprob,
                    "image_index": store.image_index, "ids": np.asarray(store.ids, dtype=str)}
            self._context = self.ray.put({
                "values": self.engine.values, "vectors": getattr(self.engine, "vectors", None),
                "order": dataset.order, "base": base,
                "real_logp": np.asarray(store.base_real_logp), "digest": images_digest(dataset.ids, dataset.labels)})
            self._spec = spec_of(self.engine, group if self.engine.name == "fast" else None)
        return self._context

    def tasks(self, store, channels, start, stop):
        """The ``(channels, b0, b1)`` pieces of work still pending, and how many records are done already.

        Channel shards: one per CPU (each recomputes the layer for its images once), runs of whole
        groups. Image blocks: ``blocks_per_shard`` per shard, in whole batches from ``start``.
        """
        group = self._group(len(channels))
        groups = [channels[g:g + group] for g in range(0, len(channels), group)]
        todo = [g for g in groups if store.pending([store.row_of[c] for c in g], start, stop)]
        batch = self.engine.batch_size
        block = max(1, -(-(stop - start) // (self.blocks_per_shard * batch))) * batch
        pieces, done = [], (len(channels) - sum(map(len, todo))) * (stop - start)
        for shard in shards(todo, self.cpus):
            rows = [store.row_of[c] for c in shard]
            for b0 in range(start, stop, block):
                b1 = min(stop, b0 + block)
                if store.pending(rows, b0, b1):
                    pieces.append((shard, b0, b1))
                else:
                    done += len(shard) * (b1 - b0)
        return group, pieces, done

    def fill(self, store, channels, start, stop, progress=None):
        """Fill ``store`` for ``channels`` x images ``start:stop``, pieces on Ray, merged as they arrive."""
        if not channels:
            return
        group, pieces, done = self.tasks(store, list(channels), start, stop)
        if progress is not None and done:
            progress(done)
        if not pieces:
            return
        context = self._context_ref(store, group)
        tasks = {self._task.remote(self.recipe, self._spec, context, *piece): piece for piece in pieces}
        for (shard, b0, b1), records in ray_session.as_completed(self.ray, tasks):
            merge(store, shard, b0, records)
            if progress is not None:
                progress(len(shard) * (b1 - b0))


def distributor(recipe: Recipe, ray, blocks_per_shard: int = BLOCKS_PER_SHARD):
    """The ``distribute`` hook of :func:`inception_tools.importance.stage.compute`: wraps its engine in a :class:`RayEngine`."""
    return lambda engine: RayEngine(engine, recipe, ray, blocks_per_shard)
