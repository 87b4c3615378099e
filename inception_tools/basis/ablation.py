"""Ablating sets of basis vectors through the surgery, cumulatively.

For an orthonormal basis ``U`` (columns ordered by variance) and a set ``S``
of its columns, ablation projects the layer's coordinates along ``S`` to
their dataset mean, at every position:

    a' = a - (a - mu) U_S U_S^T

where ``mu`` is the layer's mean over every image and position (so for
the neuron basis this is mean ablation of the channels in ``S``, exactly the
importance scan's, and it is computed as plain assignment). A *variant* is
(basis, order, k): the top k columns (``order="top"``, highest variance
first) or the bottom k (``"bottom"``, lowest first); k = 0 is the unablated
network.

Two engines give the same outcomes:

- :func:`naive_outcomes`, the reference: one ``partial_run`` per variant and
  batch (the network up to the layer, the projection, the rest);
- :func:`batched_outcomes`: the layer once per image batch, then the
  variants stacked along the batch axis and fed to the imputation point, as
  the fast importance engine does. (The fast engine's rank-one shortcut
  through the next 1x1 convolutions does not carry over: a rank-k change
  of a mixed layer also goes through max pools, which do not commute with a
  projection that mixes channels.)

Outcomes per variant and image: top-1 correct, top-k correct, and the true
class's log-probability. :func:`batched_outcomes` computes them batch by batch
(each batch a :class:`BlockJob`, which a ``distribute`` hook may run on Ray
workers: :mod:`inception_tools.scale.basis`) and checkpoints after every batch.
"""

import dataclasses
import json
import os

import numpy as np
from scipy.stats import binomtest
from threadpoolctl import threadpool_limits

from inception_tools.progress import bar as progress_bar
from inception_tools.atomic import atomic_open, atomic_path
from inception_tools.data.dataset import batch_ranges
from inception_tools.errors import UserError
from inception_tools.importance.fast import plan_groups
from inception_tools.importance.stats import topk_correct, true_logprob

ORDERS = ("top", "bottom")
CURVE_COLUMNS = ["basis", "order", "k", "n_images", "top1", "top1_lo", "top1_hi", "topk", "topk_lo", "topk_hi",
                 "top_k", "mean_logprob"]


@dataclasses.dataclass(frozen=True)
class Variant:
    basis: str  # key into the bases dict
    order: str  # "top" or "bottom"
    k: int


def log_grid(d, points_per_octave=1):
    """k = 0, then powers of two (``points_per_octave`` per doubling) up to d, and d itself."""
    if d < 1:
        raise UserError("the layer has no dimensions")
    steps = int(np.floor(np.log2(d) * points_per_octave)) + 1
    ks = np.unique(np.round(2.0 ** (np.arange(steps) / points_per_octave)).astype(int))
    return [0] + sorted(set(int(k) for k in ks if k <= d) | {d})


def check_ks(ks, basis):
    """``ks`` if every k fits ``basis`` (0..len(basis)); else a one-line UserError."""
    for k in ks:
        if k < 0:
            raise UserError(f"k = {k}: the number of ablated vectors cannot be negative")
        if k > basis.dim:
            raise UserError(f"k = {k} is larger than the layer's d = {basis.dim}")
        if k > len(basis):
            raise UserError(f"k = {k}, but the {basis.kind} basis keeps only {len(basis)} vectors")
    return list(ks)


def make_variants(bases, ks, orders=ORDERS):
    """Every (basis, order, k) of ``bases`` (dict name -> Basis) and ``ks``; k = 0 once, first."""
    for order in orders:
        if order not in ORDERS:
            raise UserError(f"unknown order {order!r}; use one of {', '.join(ORDERS)}")
    variants = [Variant(next(iter(bases)), orders[0], 0)] if 0 in ks else []
    for name, basis in bases.items():
        check_ks(ks, basis)
        variants += [Variant(name, order, k) for order in orders for k in ks if k > 0]
    return variants


def columns(basis, variant):
    """Indices of the basis columns ``variant`` ablates."""
    n = len(basis)
    return np.arange(variant.k) if variant.order == "top" else np.arange(n - 1, n - 1 - variant.k, -1)


class Ablator:
    """Applies variants to activations: projections prepared once, reused for every batch."""

    def __init__(self, bases, variants, mean):
        self.mean = np.asarray(mean, np.float32)
        self.mean_sum = float(np.asarray(mean, np.float64).sum())  # identifies the mean in a checkpoint
        self.variants = list(variants)
        self.ops = []
        for v in self.variants:
            basis = bases[v.basis]
            cols = columns(basis, v)
            if v.k == 0:
                self.ops.append(None)
            elif basis.kind == "neuron":
                self.ops.append(("assign", np.abs(basis.vectors[:, cols]).argmax(axis=0)))
            else:
                u = basis.vectors[:, cols]
                self.ops.append(("project", (u @ u.T).astype(np.float32)))

    def apply(self, acts, i):
        """``acts`` with variant ``i`` ablated (a new array)."""
        op = self.ops[i]
        if op is None:
            return acts.copy()
        kind, data = op
        if kind == "assign":
            out = acts.copy()
            out[..., data] = self.mean[data]
            return out
        return acts - (acts - self.mean) @ data


@dataclasses.dataclass
class Outcomes:
    top1: np.ndarray  # bool [V, N]
    topk: np.ndarray  # bool [V, N]
    logprob: np.ndarray  # float64 [V, N]

    @classmethod
    def empty(cls, n_variants, n_images):
        shape = (n_variants, n_images)
        return cls(np.zeros(shape, bool), np.zeros(shape, bool), np.zeros(shape, np.float64))

    def record(self, i, start, logits, labels, top_k):
        stop = start + len(labels)
        self.top1[i, start:stop] = topk_correct(logits, labels, 1)
        self.topk[i, start:stop] = topk_correct(logits, labels, top_k)
        self.logprob[i, start:stop] = true_logprob(logits, labels)


class _Checkpoint:
    """Outcomes so far and how many images are done, in ``workdir`` (resumable)."""

    def __init__(self, workdir, settings, n_variants, n_images):
        self.workdir = workdir
        self.outcomes = Outcomes.empty(n_variants, n_images)
        self.images_done = 0
        self.settings = settings
        if workdir is None:
            return
        os.makedirs(workdir, exist_ok=True)
        self.state = os.path.join(workdir, "state.json")
        self.arrays = os.path.join(workdir, "outcomes.npz")
        if os.path.isfile(self.state) and os.path.isfile(self.arrays):
            with open(self.state) as f:
                saved = json.load(f)
            if saved["settings"] == settings:
                with np.load(self.arrays) as a:
                    self.outcomes = Outcomes(a["top1"], a["topk"], a["logprob"])
                self.images_done = saved["images_done"]

    def commit(self, images_done):
        self.images_done = images_done
        if self.workdir is None:
            return
        with atomic_path(self.arrays) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **dataclasses.asdict(self.outcomes))
        with atomic_open(self.state) as f:
            json.dump({"settings": self.settings, "images_done": images_done}, f)


def _settings(net, dataset, ablator, top_k):
    return {"layer": net.layer, "n_images": len(dataset), "top_k": top_k,
            "variants": [list(dataclasses.astuple(v)) for v in ablator.variants],  # as JSON reads them back
            "mean": ablator.mean_sum}


class BlockJob:
    """The outcomes of every variant for one block of images, as one process or a Ray worker computes them.

    Picklable (projections, mean, top-k and the planned group sizes travel with it); ``groups``
    maps a batch's length to the variants per session run, planned once by the driver so that
    every run stacks the same variants whichever process makes it. The projections run on one
    BLAS thread: a multi-threaded float32 matrix product splits its sums by the thread count
    (a Ray worker has one thread, the driver all), which changes the last bits of the outcomes.
    """

    def __init__(self, ablator, top_k, groups):
        self.ablator = ablator
        self.top_k = top_k
        self.groups = dict(groups)

    def __call__(self, net, dataset, start, stop):
        """:class:`Outcomes` [V, stop - start] of images ``start:stop`` (one batch)."""
        n_variants = len(self.ablator.variants)
        outcomes = Outcomes.empty(n_variants, stop - start)
        images = dataset.images(start, stop)
        labels = dataset.labels[start:stop]
        acts = net.layer_activations(images)
        g = self.groups[len(images)]
        for g0 in range(0, n_variants, g):
            chunk = range(g0, min(g0 + g, n_variants))
            with threadpool_limits(1, user_api="blas"):
                stacked = np.concatenate([self.ablator.apply(acts, i) for i in chunk])
            logits = net.session.run(net.logits, {net.imputed: stacked, **net.side_feed(images, len(chunk))})
            for j, i in enumerate(chunk):
                outcomes.record(i, 0, logits[j * len(images):(j + 1) * len(images)], labels, self.top_k)
        return outcomes


def batched_outcomes(net, dataset, ablator, top_k, batch_size=16, group=None, workdir=None, distribute=None):
    """Outcomes of every variant: the layer once per batch, variants stacked along the batch axis.

    Args:
        net: a :class:`~inception_tools.surgery.Network` at the basis's layer.
        dataset: the images.
        ablator: an :class:`Ablator` of the bases, the variants and the layer's mean.
        top_k: top-k accuracy besides top-1.
        batch_size: images per batch.
        group: variants per session run (default: as many as fit, planned once per batch length).
        workdir: checkpoint folder (resumable: outcomes and images done after every batch).
        distribute: optional ``(job, dataset, batches) -> iterable of (batch, Outcomes)`` in batch
            order that runs :class:`BlockJob` elsewhere, e.g. :func:`inception_tools.scale.basis.distributor`
            (Ray); each result is checkpointed as it comes, as one process would.

    Returns:
        :class:`Outcomes` [variants, images].
    """
    variants = ablator.variants
    checkpoint = _Checkpoint(workdir, _settings(net, dataset, ablator, top_k), len(variants), len(dataset))
    todo = batch_ranges(checkpoint.images_done, len(dataset), batch_size)
    per_variant = 4 * 8 * net.layer_activations(dataset.images(0, 1))[0].size
    job = BlockJob(ablator, top_k, {b1 - b0: group or plan_groups(len(variants), b1 - b0, per_variant)
                                    for b0, b1 in todo})
    if distribute is None:
        results = ((batch, job(net, dataset, *batch)) for batch in todo)
    else:
        results = distribute(job, dataset, todo)
    with progress_bar(total=len(variants) * len(dataset), initial=len(variants) * checkpoint.images_done, unit="img",
                      desc=f"basis ablation {net.layer}") as bar:
        for (b0, b1), part in results:
            for name in ("top1", "topk", "logprob"):
                getattr(checkpoint.outcomes, name)[:, b0:b1] = getattr(part, name)
            checkpoint.commit(b1)
            bar.update(len(variants) * (b1 - b0))
    return checkpoint.outcomes


def naive_outcomes(net, dataset, ablator, top_k, batch_size=16):
    """The reference: one ``partial_run`` (whole network) per variant and batch.

    Arguments as :func:`batched_outcomes`; returns :class:`Outcomes`."""
    outcomes = Outcomes.empty(len(ablator.variants), len(dataset))
    with progress_bar(total=len(ablator.variants) * len(dataset), unit="img",
                      desc=f"naive ablation {net.layer}") as bar:
        for i in range(len(ablator.variants)):
            for start, images in dataset.batches(batch_size):
                handle = net.session.partial_run_setup([net.activations, net.logits], [net.images, net.imputed])
                acts = net.session.partial_run(handle, net.activations, net.feed(images))
                logits = net.session.partial_run(handle, net.logits, {net.imputed: ablator.apply(acts, i)})
                outcomes.record(i, start, logits, dataset.labels[start:start + len(images)], top_k)
                bar.update(len(images))
    return outcomes


def _interval(correct):
    n, hits = len(correct), int(correct.sum())
    ci = binomtest(hits, n).proportion_ci(0.95, method="exact")
    return hits / n, ci.low, ci.high


def curve_rows(variants, outcomes, top_k):
    """One row per variant: accuracies with exact (Clopper-Pearson) 95% intervals."""
    rows = []
    for i, v in enumerate(variants):
        top1, topk = _interval(outcomes.top1[i]), _interval(outcomes.topk[i])
        rows.append({"basis": v.basis, "order": v.order, "k": v.k, "n_images": outcomes.top1.shape[1],
                     "top1": top1[0], "top1_lo": top1[1], "top1_hi": top1[2],
                     "topk": topk[0], "topk_lo": topk[1], "topk_hi": topk[2], "top_k": top_k,
                     "mean_logprob": float(outcomes.logprob[i].mean())})
    return rows
