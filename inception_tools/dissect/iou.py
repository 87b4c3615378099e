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
"""

from __future__ import annotations

import numpy as np


class Counts:
    """Integer counts accumulated batch by batch.

    Args:
        channels: K.
        concepts: C.
    """

    def __init__(self, channels: int, concepts: int):
        self.intersection = np.zeros((channels, concepts), np.int64)
        self.unit_area = np.zeros(channels, np.int64)
        self.concept_area = np.zeros(concepts, np.int64)

    def add(self, intersection, unit_area, concept_masks) -> None:
        """Add one batch: its ``|M ∩ L|`` [K, C], ``|M|`` [K] and bool concept masks [..., C]."""
        self.intersection += intersection
        self.unit_area += unit_area
        self.concept_area += concept_masks.reshape(-1, concept_masks.shape[-1]).sum(axis=0)

    def state(self) -> dict:
        return {"intersection": self.intersection, "unit_area": self.unit_area, "concept_area": self.concept_area}

    @classmethod
    def from_state(cls, state: dict) -> "Counts":
        made = cls(*state["intersection"].shape)
        made.intersection = np.array(state["intersection"])
        made.unit_area = np.array(state["unit_area"])
        made.concept_area = np.array(state["concept_area"])
        return made


def iou(intersection, unit_area, concept_area):
    """float64 [K, C] IoU; 0 where both the mask and the concept are empty."""
    union = unit_area[:, None] + concept_area[None, :] - intersection
    return np.divide(intersection, union, out=np.zeros(intersection.shape), where=union > 0)


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
