"""A basis study of one layer, each step skipping what is already on disk.

Files in ``out_dir``:

- ``sample.npz``: the sampled ``A`` (layer output and pre-ReLU, same
  positions), the positions, the layer's dataset mean, the seed;
- ``pca.npz``, ``neuron.npz``: the bases of the layer output (components,
  variances, sample mean; ``dataset_mean`` is the ablation's mean);
- ``explained_variance.csv`` (``k,pcs,neurons``) for the layer output and
  ``explained_variance_pre_relu.csv`` for ``<layer>_pre_relu`` (the paper's
  tensor), ``explained_variance.png`` with both;
- ``ablation.csv``, ``ablation.png``: the cumulative ablation curves (top-k
  and bottom-k of both bases on a log grid of k), ``ablation.outcomes.npz``
  (per variant and image: top-1, top-k correct, log-probability),
  ``ablation.partial/`` while they run;
- ``strips/<basis>_<vvvv>.png`` (+ ``.json``): distance-minimizing strips,
  ``renders-<steps>steps-<size>px-<engine>/<basis>_<vvvv>.png`` (+ ``.npy``): Lucid
  renders, of the chosen basis vectors (``pca_0001`` is PC 1);
- ``gallery/``: the vectors with a strip or render, ranked by variance;
- ``basis.json``: settings and the k for 80% / 99% of the variance.
"""

import csv
import dataclasses
import json
import logging
import os
import shutil
import time

import numpy as np

from inception_tools import layout
from inception_tools.atomic import atomic_open, atomic_path
from inception_tools.activations.pca import (check_components, explained_rows, k_for, load_basis, make_basis,
                                             neuron_basis, pca_basis, save_basis)
from inception_tools.activations.sample import Sample, sample_activations
from inception_tools.basis import ablation, figures
from inception_tools.basis.page import build_basis_gallery, importance_ranking
from inception_tools.basis.render import write_renders
from inception_tools.basis.strip import write_strips
from inception_tools.errors import UserError
from inception_tools.importance.stats import mcnemar_p
from inception_tools.manifest import check_settings

log = logging.getLogger(__name__)

FRACTIONS = (0.8, 0.99)


def load_or_sample(net, dataset, path, seed, batch_size):
    """The :class:`Sample` in ``path``, or a fresh one written there."""
    if os.path.isfile(path):
        with np.load(path) as f:
            pre = f["pre_relu"] if f["has_pre_relu"] else None
            return Sample(f["layer"], pre, f["positions"], f["mean"], int(f["seed"]))
    sample = sample_activations(net, dataset, seed, batch_size)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, layer=sample.layer, pre_relu=sample.pre_relu if sample.pre_relu is not None else np.zeros(0),
                     has_pre_relu=sample.pre_relu is not None, positions=sample.positions, mean=sample.mean,
                     seed=sample.seed)
    return sample


def write_explained(pcs, neurons, path):
    with atomic_open(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["k", "pcs", "neurons"])
        writer.writerows(explained_rows(pcs, neurons))
    return path


def k_summary(pcs, neurons):
    """{"pcs": {"0.8": k, "0.99": k}, "neurons": {...}}."""
    return {name: {str(q): k_for(b.explained(), q) for q in FRACTIONS} for name, b in
            (("pcs", pcs), ("neurons", neurons))}


def pca_step(net, dataset, out_dir, seed=0, components=None, batch_size=32, report=None):
    """Sample, build both bases of the layer output, write explained variance; return (bases, sample, summary)."""
    report = report or log.info
    sample = load_or_sample(net, dataset, os.path.join(out_dir, "sample.npz"), seed, batch_size)
    paths = {kind: os.path.join(out_dir, f"{kind}.npz") for kind in ("pca", "neuron")}
    if all(os.path.isfile(p) for p in paths.values()):
        bases = {kind: load_basis(p) for kind, p in paths.items()}
    else:
        bases = {kind: make_basis(kind, sample.layer, components) for kind in ("pca", "neuron")}
        for kind, basis in bases.items():
            save_basis(basis, paths[kind], dataset_mean=sample.mean)
    write_explained(bases["pca"], bases["neuron"], os.path.join(out_dir, "explained_variance.csv"))
    summary = {"layer": k_summary(bases["pca"], bases["neuron"])}
    curves = {f"{net.layer}": (bases["pca"].explained(), bases["neuron"].explained())}
    if sample.pre_relu is not None:
        pre_pcs = pca_basis(sample.pre_relu, components)
        pre_neurons = neuron_basis(sample.pre_relu)
        write_explained(pre_pcs, pre_neurons, os.path.join(out_dir, "explained_variance_pre_relu.csv"))
        summary["pre_relu"] = k_summary(pre_pcs, pre_neurons)
        curves[f"{net.layer}_pre_relu"] = (pre_pcs.explained(), pre_neurons.explained())
    figures.explained_variance_plot(curves, f"{net.model.name} {net.layer}: {len(sample.layer)} sampled vectors",
                                    os.path.join(out_dir, "explained_variance.png"))
    for tensor, ks in summary.items():
        report(f"explained variance ({tensor}): " + "; ".join(
            f"{q:.0%}: {ks['pcs'][str(q)]} PCs vs {ks['neurons'][str(q)]} neurons" for q in FRACTIONS))
    return bases, sample, summary


def ablation_step(net, dataset, bases, mean, out_dir, config, report=None, distribute=None):
    """Cumulative ablation curves of both bases; returns the CSV rows.

    Args:
        net, dataset: the layer's network and the images ablated.
        bases: ``{"pca": Basis, "neuron": Basis}``; mean: the layer's mean, the ablated value.
        out_dir: the study folder (``ablation.csv``, ``ablation.png``, ``ablation.outcomes.npz``).
        config: a :class:`~inception_tools.basis.config.BasisConfig` with ``top_k`` resolved: its ``ks``
            (default a log grid with ``points_per_octave``), ``ablation_batch`` and ``top_k``.
        report: callable for one-line messages (default: this module's logger).
        distribute: the hook of :func:`~inception_tools.basis.ablation.batched_outcomes` (e.g. Ray).

    Returns:
        The rows of ``ablation.csv`` (dicts, numbers parsed).
    """
    report = report or log.info
    top_k = config.top_k
    csv_path = os.path.join(out_dir, "ablation.csv")
    d = bases["neuron"].dim
    ks = config.ks
    ks = ablation.log_grid(min(d, len(bases["pca"])), config.points_per_octave) if ks is None else sorted(set(ks) | {0})
    variants = ablation.make_variants(bases, ks)
    if not os.path.isfile(csv_path):
        started = time.time()
        workdir = csv_path.replace(".csv", ".partial")
        outcomes = ablation.batched_outcomes(net, dataset, ablation.Ablator(bases, variants, mean), top_k,
                                             config.ablation_batch, workdir=workdir, distribute=distribute)
        rows = ablation.curve_rows(variants, outcomes, top_k)
        with atomic_path(os.path.join(out_dir, "ablation.outcomes.npz")) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, variants=np.array([f"{v.basis}/{v.order}/{v.k}" for v in variants]),
                         top1=outcomes.top1, topk=outcomes.topk, logprob=outcomes.logprob)
        with atomic_open(csv_path, newline="") as f:
            writer = csv.DictWriter(f, ablation.CURVE_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        if os.path.isdir(workdir):
            shutil.rmtree(workdir)
        where = f", {distribute}" if distribute is not None else ""
        report(f"ablation: {len(variants)} variants x {len(dataset)} images in {time.time() - started:.0f} s{where}")
    rows = read_curves(csv_path)
    figures.ablation_plot(rows, f"{net.model.name} {net.layer}", os.path.join(out_dir, "ablation.png"))
    return rows


def read_curves(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for key in r:
            if key not in ("basis", "order"):
                r[key] = int(r[key]) if key in ("k", "n_images", "top_k") else float(r[key])
    return rows


def claim_check(rows, outcomes_path=None):
    """Per k: top-1 accuracy after ablating the top-k PCs minus after the top-k neurons (< 0: PCs hurt more),
    and, with the per-image outcomes, the exact McNemar p-value of that paired difference."""
    top = {(r["basis"], r["k"]): r["top1"] for r in rows if r["order"] == "top" and r["k"] > 0}
    ks = sorted({k for _, k in top})
    found = {}
    if outcomes_path and os.path.isfile(outcomes_path):
        with np.load(outcomes_path) as f:
            found = dict(zip(f["variants"].tolist(), f["top1"]))
    result = {}
    for k in ks:
        if ("pca", k) not in top or ("neuron", k) not in top:
            continue
        entry = {"difference": top[("pca", k)] - top[("neuron", k)]}
        pca, neuron = found.get(f"pca/top/{k}"), found.get(f"neuron/top/{k}")
        if pca is not None and neuron is not None:
            entry["mcnemar_p"] = mcnemar_p(int((neuron & ~pca).sum()), int((pca & ~neuron).sum()))
        result[k] = entry
    return result


def write_summary(out_dir, settings, **parts):
    path = os.path.join(out_dir, "basis.json")
    data = {}
    if os.path.isfile(path):
        with open(path) as f:
            data = json.load(f)
    data.update(settings=settings, **parts)
    with atomic_open(path) as f:
        json.dump(data, f, indent=1, default=str)
    return path


def basis_study(net, dataset, out_dir, config, report=None, distribute=None):
    """Sampling, PCA, explained variance, the ablation curves of ``net.layer``, and strips (and renders)
    of the chosen basis vectors, into ``out_dir``.

    Args:
        config: a :class:`~inception_tools.basis.config.BasisConfig`.
        report: callable for one-line messages (default: this module's logger).
        distribute: runs the ablation's image batches elsewhere (:func:`inception_tools.scale.basis.distributor`).

    Returns:
        ``(bases, sample)``: the two bases by name and the sampled activations.
    """
    report = report or log.info
    net.model.check_layer(net.layer, "ablate")
    top_k = net.model.check_top_k(net.model.default_top_k if config.top_k is None else config.top_k)
    c = dataclasses.replace(config, top_k=top_k)
    settings = dict(model=net.model.name, layer=net.layer, dataset=getattr(dataset, "source", ""),
                    n_images=len(dataset), resize=dataset.resize, pixel_scaling=net.pixel_scaling, seed=c.seed,
                    components=c.components, tensor=net.layer, pre_relu_tensor=f"{net.layer}_pre_relu")
    depth = net.model.depth(net.layer)
    check_components(c.components, len(dataset), depth)  # before any work
    for k in c.ks or ():
        if not 0 <= k <= (c.components or depth):
            raise UserError(f"k = {k} is larger than the layer's d = {depth}" if k > depth else
                            f"k = {k}: ablate between 0 and {c.components or depth} basis vectors")
    if c.vectors and not 1 <= c.strip_k <= len(dataset):
        raise UserError(f"strip: cannot pick {c.strip_k} nearest patches from {len(dataset)} images")
    os.makedirs(out_dir, exist_ok=True)
    check_settings(layout.settings_json(out_dir), settings, out_dir)
    bases, sample, summary = pca_step(net, dataset, out_dir, c.seed, c.components, c.batch_size, report)
    ranking = importance_ranking(c.importance, bases["pca"], c.score) if c.importance else None  # before the long work
    parts = {"explained_variance_k": summary, "d": bases["neuron"].dim, "n_sampled": len(sample.layer)}
    if c.ablate:
        subset = dataset if not c.ablation_images or c.ablation_images >= len(dataset) else \
            spread(dataset, c.ablation_images)
        rows = ablation_step(net, subset, bases, sample.mean, out_dir, c, report, distribute)
        parts.update(ablation_images=len(subset),
                     pca_minus_neuron_top1=claim_check(rows, os.path.join(out_dir, "ablation.outcomes.npz")))
    basis = bases[c.visual_basis]
    vectors = list(c.vectors)
    if vectors:
        paths = write_strips(net, dataset, basis, sample.layer, out_dir, c)
        report(f"strips: {', '.join(paths)}")
    if vectors and c.render:
        paths = write_renders(net.model, net.layer, basis, out_dir, c)
        report(f"renders: {', '.join(paths)}")
    if vectors:
        report(f"gallery: {build_basis_gallery(out_dir, basis, f'{net.model.name} {net.layer}', ranking=ranking)}")
    write_summary(out_dir, settings, **parts)
    return bases, sample


def spread(dataset, n):
    """``n`` images of ``dataset`` evenly spaced in its order (rows ``round(linspace(0, N - 1, n))``)."""
    if n < 1:
        raise UserError("ablation_images must be at least 1")
    rows = np.unique(np.round(np.linspace(0, len(dataset) - 1, n)).astype(int))
    return dataset.reordered(rows)  # a view: its length, labels and ids follow the rows
