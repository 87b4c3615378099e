"""The steps of a basis study in memory: the sample, the bases, the explained variance, the ablation curves.

Each long step saves what it made in the :class:`~inception_tools.runner.Checkpoint` it is given (the
sample, the two bases) or resumes from a path inside it (the ablation's batches), so a killed study
continues where it stopped and gives the same bytes.
"""

import time

import numpy as np

from inception_tools.activations.pca import Basis, explained_rows, k_for, make_basis, neuron_basis, pca_basis
from inception_tools.activations.sample import Sample, sample_activations
from inception_tools.basis import ablation
from inception_tools.basis.result import FRACTIONS, Curves
from inception_tools.errors import UserError
from inception_tools.importance.stats import mcnemar_p

BASIS_KEYS = ("kind", "vectors", "variances", "total_variance", "center")


def sample_arrays(sample):
    """The arrays of ``sample.npz`` (and of the checkpoint's ``sample`` group)."""
    return dict(layer=sample.layer, pre_relu=sample.pre_relu if sample.pre_relu is not None else np.zeros(0),
                has_pre_relu=sample.pre_relu is not None, positions=sample.positions, mean=sample.mean,
                seed=sample.seed)


def sample_of(arrays):
    """The :class:`Sample` of :func:`sample_arrays`' form."""
    pre = arrays["pre_relu"] if arrays["has_pre_relu"] else None
    return Sample(arrays["layer"], pre, arrays["positions"], arrays["mean"], int(arrays["seed"]))


def sampled(net, dataset, seed, batch_size, checkpoint):
    """The :class:`Sample` of ``net.layer`` over ``dataset``: from ``checkpoint``, or sampled and saved there."""
    saved = checkpoint.load("sample")
    if saved is not None:
        return sample_of(saved)
    sample = sample_activations(net, dataset, seed, batch_size)
    checkpoint.save("sample", **sample_arrays(sample))
    return sample


def bases_of(sample, components, checkpoint):
    """``{"pca": Basis, "neuron": Basis}`` of the sampled layer output: from ``checkpoint``, or made and saved."""
    saved = checkpoint.load("bases")
    if saved is not None:
        return {kind: Basis(str(saved[f"{kind}/kind"]), saved[f"{kind}/vectors"], saved[f"{kind}/variances"],
                            float(saved[f"{kind}/total_variance"]), saved[f"{kind}/center"])
                for kind in ("pca", "neuron")}
    bases = {kind: make_basis(kind, sample.layer, components) for kind in ("pca", "neuron")}
    checkpoint.save("bases", **{f"{kind}/{key}": getattr(b, key) for kind, b in bases.items() for key in BASIS_KEYS})
    return bases


def k_summary(pcs, neurons):
    """{"pcs": {"0.8": k, "0.99": k}, "neurons": {...}}."""
    return {name: {str(q): k_for(b.explained(), q) for q in FRACTIONS} for name, b in
            (("pcs", pcs), ("neurons", neurons))}


def explained(sample, bases, components):
    """Explained-variance rows of the layer output (and of the pre-ReLU tensor) and the k summary.

    Returns:
        ``(rows, summary)``: ``{"layer": rows, "pre_relu": rows}`` (rows of
        :func:`~inception_tools.activations.pca.explained_rows`) and ``{tensor: k_summary}``.
    """
    rows = {"layer": explained_rows(bases["pca"], bases["neuron"])}
    summary = {"layer": k_summary(bases["pca"], bases["neuron"])}
    if sample.pre_relu is not None:
        pre_pcs, pre_neurons = pca_basis(sample.pre_relu, components), neuron_basis(sample.pre_relu)
        rows["pre_relu"] = explained_rows(pre_pcs, pre_neurons)
        summary["pre_relu"] = k_summary(pre_pcs, pre_neurons)
    return rows, summary


def ablation_ks(config, d, components):
    """The k values of the curves: ``config.ks`` with 0, or the log grid up to the smaller basis (``d``
    neurons, ``components`` principal components)."""
    if config.ks is not None:
        return sorted(set(config.ks) | {0})
    return ablation.log_grid(min(d, components), config.points_per_octave)


def ablated(dataset, config):
    """The images the curves are measured on: ``config.ablation_images`` of ``dataset`` evenly spaced, or all."""
    if not config.ablation_images or config.ablation_images >= len(dataset):
        return dataset
    return spread(dataset, config.ablation_images)


def curves(net, dataset, bases, mean, config, top_k, workdir=None, distribute=None):
    """Cumulative ablation curves of both bases on ``dataset``.

    Args:
        net, dataset: the layer's network and the images ablated.
        bases: ``{"pca": Basis, "neuron": Basis}``; mean: the layer's mean, the ablated value.
        config: a :class:`~inception_tools.basis.config.BasisConfig`: ``ks`` / ``points_per_octave``,
            ``ablation_batch``.
        top_k: top-k accuracy besides top-1.
        workdir: the resumable folder of :func:`~inception_tools.basis.ablation.batched_outcomes` (None: none).
        distribute: the hook of :func:`~inception_tools.basis.ablation.batched_outcomes` (e.g. Ray).

    Returns:
        ``(Curves, seconds)``.
    """
    started = time.time()
    variants = ablation.make_variants(bases, ablation_ks(config, bases["neuron"].dim, len(bases["pca"])))
    outcomes = ablation.batched_outcomes(net, dataset, ablation.Ablator(bases, variants, mean), top_k,
                                         config.ablation_batch, workdir=workdir, distribute=distribute)
    rows = ablation.curve_rows(variants, outcomes, top_k)
    names = [f"{v.basis}/{v.order}/{v.k}" for v in variants]
    return Curves(rows, names, outcomes), time.time() - started


def claim_check(found):
    """Per k: top-1 accuracy after ablating the top-k PCs minus after the top-k neurons (< 0: PCs hurt more),
    and the exact McNemar p-value of that paired difference over the per-image outcomes.

    Args:
        found: :class:`~inception_tools.basis.result.Curves`.
    """
    top = {(r["basis"], r["k"]): r["top1"] for r in found.rows if r["order"] == "top" and r["k"] > 0}
    per_image = dict(zip(found.variants, found.outcomes.top1))
    result = {}
    for k in sorted({k for _, k in top}):
        if ("pca", k) not in top or ("neuron", k) not in top:
            continue
        entry = {"difference": top[("pca", k)] - top[("neuron", k)]}
        pca, neuron = per_image.get(f"pca/top/{k}"), per_image.get(f"neuron/top/{k}")
        if pca is not None and neuron is not None:
            entry["mcnemar_p"] = mcnemar_p(int((neuron & ~pca).sum()), int((pca & ~neuron).sum()))
        result[k] = entry
    return result


def spread(dataset, n):
    """``n`` images of ``dataset`` evenly spaced in its order (rows ``round(linspace(0, N - 1, n))``)."""
    if n < 1:
        raise UserError("ablation_images must be at least 1")
    rows = np.unique(np.round(np.linspace(0, len(dataset) - 1, n)).astype(int))
    return dataset.reordered(rows)  # a view: its length, labels and ids follow the rows
