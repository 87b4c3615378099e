"""Intersection over union of channel masks and concept masks, summed over a dataset; detectors.

Bau et al.'s score of channel k for concept c is one ratio over the whole
dataset, not a mean of per-image ratios:

    IoU_{k,c} = sum_x |M_k(x) ∩ L_c(x)| / sum_x |M_k(x) ∪ L_c(x)|

so it is accumulated as integer counts: the intersections ``|M_k ∩ L_c|``, the
mask areas ``|M_k|`` and the concept areas ``|L_c|``, whose union is
``|M_k| + |L_c| - |M_k ∩ L_c|``. A channel's label is its best concept; it is
a **detector** when that IoU exceeds 0.04 (Bau et al.'s cut). The number of
*unique detectors* of a category is the number of distinct concepts of that
category that some detector is labelled with (how many different things the
layer detects), given next to the number of detector channels.

**Uncertainty.** The counts are kept per group of images (image ``i`` in group
``i mod G``, ``G = 20``), so a delete-one-group jackknife gives each IoU's
standard error over the images: the ratio recomputed without each group in
turn, ``SE^2 = (G - 1) / G * sum_g (IoU_(-g) - mean)^2``; the 95% interval is
``IoU +- 1.96 SE``. Memory: ``G`` copies of the [K, C] counts.
"""

from __future__ import annotations

import numpy as np


GROUPS = 20


class Counts:
    """Integer counts accumulated batch by batch, per group of images.

    Args:
        channels: K.
        concepts: C.
        groups: G; image ``i`` counts in group ``i mod G``.
    """

    def __init__(self, channels: int, concepts: int, groups: int = GROUPS):
        self.intersection = np.zeros((groups, channels, concepts), np.int64)
        self.unit_area = np.zeros((groups, channels), np.int64)
        self.concept_area = np.zeros((groups, concepts), np.int64)

    def add(self, intersection, unit_area, concept_masks, rows) -> None:
        """Add one batch: per image ``|M ∩ L|`` [n, K, C], ``|M|`` [n, K], bool concept masks [n, ..., C].

        ``rows``: the images' dataset indices [n].
        """
        group = np.asarray(rows) % len(self.unit_area)
        np.add.at(self.intersection, group, intersection)
        np.add.at(self.unit_area, group, unit_area)
        np.add.at(self.concept_area, group, concept_masks.reshape(len(group), -1, concept_masks.shape[-1]).sum(axis=1))

    def state(self) -> dict:
        return {"intersection": self.intersection, "unit_area": self.unit_area, "concept_area": self.concept_area}

    @classmethod
    def from_state(cls, state: dict) -> "Counts":
        groups, channels, concepts = state["intersection"].shape
        made = cls(channels, concepts, groups)
        made.intersection = np.array(state["intersection"])
        made.unit_area = np.array(state["unit_area"])
        made.concept_area = np.array(state["concept_area"])
        return made


def iou(intersection, unit_area, concept_area):
    """float64 [K, C] IoU; 0 where both the mask and the concept are empty."""
    union = unit_area[:, None] + concept_area[None, :] - intersection
    return np.divide(intersection, union, out=np.zeros(intersection.shape), where=union > 0)


def jackknife_se(intersection, unit_area, concept_area, channels, concepts):
    """Delete-one-group jackknife standard error of ``IoU[channels[i], concepts[i]]`` from grouped counts.

    Args:
        intersection, unit_area, concept_area: [G, K, C], [G, K], [G, C] counts.
        channels, concepts: [m] pairs to score.

    Returns:
        float64 [m] standard errors (0 with a single group).
    """
    groups = len(unit_area)
    if groups < 2:
        return np.zeros(len(channels))
    inter = intersection[:, channels, concepts]                     # [G, m]
    union = unit_area[:, channels] + concept_area[:, concepts] - inter
    left_inter, left_union = inter.sum(0) - inter, union.sum(0) - union  # without group g
    scores = np.divide(left_inter, left_union, out=np.zeros(left_inter.shape), where=left_union > 0)
    return np.sqrt((groups - 1) / groups * ((scores - scores.mean(axis=0)) ** 2).sum(axis=0))


def best_concepts(scores):
    """(best concept index [K], its IoU [K]); ties go to the lower concept index."""
    best = np.argmax(scores, axis=1)
    return best, scores[np.arange(len(scores)), best]


def detectors(best_iou, cut=0.04):
    """Channel indices whose best IoU exceeds ``cut``, strongest first (ties: lower channel first)."""
    found = np.flatnonzero(best_iou > cut)
    return found[np.argsort(-best_iou[found], kind="stable")]


def by_category(best, found, categories):
    """{category: {"detectors": channels labelled with it, "unique": distinct concepts}} for every category."""
    summary = {}
    for category in dict.fromkeys(categories):
        labels = [int(best[k]) for k in found if categories[best[k]] == category]
        summary[category] = {"detectors": len(labels), "unique": len(set(labels))}
    return summary
