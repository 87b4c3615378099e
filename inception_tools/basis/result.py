"""What a basis study gives back: :class:`BasisStudy`, in memory, the same whether computed or read.

The name ``BasisStudy`` (not ``Basis``) because :class:`inception_tools.activations.pca.Basis` is
already one basis; a study holds two of them and what was measured with them.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from inception_tools.activations.pca import Basis
from inception_tools.activations.sample import Sample

FRACTIONS = (0.8, 0.99)


@dataclasses.dataclass
class Curves:
    """The cumulative ablation curves of both bases (``ablation.csv`` and ``ablation.outcomes.npz``)."""

    rows: list  # one dict per variant: basis, order, k, n_images, top1 (+ 95% interval), topk, top_k, mean_logprob
    variants: list  # "<basis>/<order>/<k>" per row
    outcomes: object  # basis.ablation.Outcomes: per variant and image: top-1, top-k correct, log-probability of the true class


@dataclasses.dataclass
class BasisStudy:
    """Neuron basis vs principal components of one layer (what ``it.basis`` returns).

    Attributes:
        model, layer: the model's name and the layer studied.
        config: the :class:`~inception_tools.basis.config.BasisConfig` it was made with.
        sample: the sampled activation vectors (:class:`~inception_tools.activations.sample.Sample`).
        bases: ``{"pca": Basis, "neuron": Basis}`` of the layer output.
        explained: ``{"layer": rows, "pre_relu": rows}`` (``pre_relu`` when the model has that tensor):
            rows ``(k, pcs, neurons)`` of the cumulative explained variance, ``""`` past the kept components.
        curves: the ablation curves (None without ``ablate``).
        strips: ``{vector: (uint8 [H, W, 3], meta)}`` of the distance-minimizing strips (0-based vectors
            of ``config.visual_basis``); ``meta`` is what the strip's JSON holds.
        renders: ``{vector: float32 [4, S, S, 3]}``: the Lucid renders of the same vectors.
        summary: what ``basis.json`` holds: settings, the k for 80% / 99% of the variance, d, the sample
            size and, with the curves, the images ablated and top-1 after PCs minus after neurons per k.
        ranking: the importance table that orders the gallery (not read back from a folder).
        seconds: wall time of the ablation (not written).
        where: what ran the ablation's batches when they were distributed (e.g. the Ray hook; not written).
    """

    model: str
    layer: str
    config: object
    sample: Sample
    bases: dict
    explained: dict
    curves: Optional[Curves]
    strips: dict
    renders: dict
    summary: dict
    ranking: object = None
    seconds: dict = dataclasses.field(default_factory=dict)
    where: str = ""

    @property
    def basis(self) -> Basis:
        """The basis of the strips and renders (``config.visual_basis``)."""
        return self.bases[self.config.visual_basis]

    def report(self):
        """One-line messages about the study (the command prints them)."""
        lines = []
        for tensor, ks in self.summary["explained_variance_k"].items():
            lines.append(f"explained variance ({tensor}): " + "; ".join(
                f"{q:.0%}: {ks['pcs'][str(q)]} PCs vs {ks['neurons'][str(q)]} neurons" for q in FRACTIONS))
        if self.curves is not None:
            took = f" in {self.seconds['ablation']:.0f} s" if "ablation" in self.seconds else ""
            took += f", {self.where}" if self.where else ""
            lines.append(f"ablation: {len(self.curves.variants)} variants x {self.curves.outcomes.top1.shape[1]} "
                         f"images{took}")
        return lines


def explained_curves(rows):
    """``(pcs, neurons)`` cumulative explained-variance arrays from explained-variance rows."""
    return (np.array([r[1] for r in rows if r[1] != ""], np.float64), np.array([r[2] for r in rows], np.float64))
