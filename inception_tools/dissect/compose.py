"""Compositional explanations (Mu and Andreas, 2020): a channel's best logical formula of concepts.

A formula joins concepts with AND, OR and AND NOT, left to right:
``(red OR orange) AND NOT white``. Its mask is the pixelwise logic of the
concept masks, and its IoU with a channel's mask is counted over the whole
dataset like a single concept's. The search is Mu and Andreas's beam search:
the beam starts with the ``beam`` best single concepts; each step extends every
formula F of the beam by ``F AND c``, ``F OR c`` and ``F AND NOT c`` for every
concept c not yet in F, and keeps the ``beam`` best of the old beam and the new
formulas; after formulas of ``length`` concepts the best one is the channel's
explanation. (Their ``NOT c`` on its own and ``F OR NOT c`` are not used here.)

Masks are bit-packed over all pixels of all images (``np.packbits``; padding
bits are 0 and stay 0 under these three operations). For each formula F of the
beam, one pass over the concept masks gives ``|F ∩ c|`` and ``|M ∩ F ∩ c|`` for
every c, from which the counts of all three extensions follow:

    AND:     |M ∩ (F ∩ c)| = |M∩F∩c|                      |F ∩ c|
    OR:      |M ∩ (F ∪ c)| = |M∩F| + |M∩c| - |M∩F∩c|      |F| + |c| - |F∩c|
    AND NOT: |M ∩ F \\ c|   = |M∩F| - |M∩F∩c|              |F| - |F∩c|

Memory: the packed masks of C concepts and U explained channels, (C + U) bits
per pixel of every image.
"""

from __future__ import annotations

import dataclasses

import numpy as np

OPERATORS = ("AND", "OR", "AND NOT")


@dataclasses.dataclass(frozen=True)
class Formula:
    """A left-deep formula: its first concept, then (operator, concept) pairs."""

    first: int
    rest: tuple = ()

    def concepts(self):
        return {self.first, *(c for _, c in self.rest)}

    def text(self, names):
        """The formula in words, e.g. ``(red OR orange) AND NOT white``."""
        words = names[self.first]
        for i, (op, c) in enumerate(self.rest):
            words = f"({words}) {op} {names[c]}" if i else f"{words} {op} {names[c]}"
        return words

    def key(self):
        return (len(self.rest), self.first, tuple((OPERATORS.index(op), c) for op, c in self.rest))


def popcount(packed, axis=-1):
    """Number of set bits of uint8 ``packed`` along ``axis``."""
    return np.bitwise_count(packed).sum(axis=axis, dtype=np.int64)


def _apply(mask, op, concept_mask):
    if op == "AND":
        return mask & concept_mask
    if op == "OR":
        return mask | concept_mask
    return mask & ~concept_mask


def explain(unit, concepts, length, beam):
    """The best formula of at most ``length`` concepts for one channel.

    Args:
        unit: the channel's packed mask, uint8 [B].
        concepts: the packed concept masks, uint8 [C, B].
        length: the longest formula (1: the best single concept).
        beam: formulas kept per step.

    Returns:
        (Formula, IoU).
    """
    unit_area = popcount(unit)
    concept_area = popcount(concepts)
    with_unit = popcount(concepts & unit)
    singles = _iou(with_unit, unit_area + concept_area - with_unit)
    order = sorted(range(len(concepts)), key=lambda c: (-singles[c], c))[:beam]
    kept = [(singles[c], Formula(c), concepts[c]) for c in order]
    for _ in range(length - 1):
        found = list(kept)
        for _, formula, mask in kept:
            found.extend(_extensions(formula, mask, unit, unit_area, concepts, concept_area, with_unit))
        found.sort(key=lambda item: (-item[0], item[1].key()))
        kept = [(score, formula, mask if mask is not None else _mask(formula, concepts))
                for score, formula, mask in found[:beam]]
    score, formula, _ = kept[0]
    return formula, float(score)


def _iou(inter, union):
    return np.divide(inter, union, out=np.zeros(np.shape(inter)), where=np.asarray(union) > 0)


def _extensions(formula, mask, unit, unit_area, concepts, concept_area, with_unit):
    """(IoU, Formula, None) for every extension of ``formula`` by one concept it lacks."""
    area = popcount(mask)
    inter = popcount(mask & unit)
    with_f = popcount(concepts & mask)                 # |F ∩ c|
    with_both = popcount(concepts & (mask & unit))     # |M ∩ F ∩ c|
    counts = {"AND": (with_both, with_f),
              "OR": (inter + with_unit - with_both, area + concept_area - with_f),
              "AND NOT": (inter - with_both, area - with_f)}
    used = formula.concepts()
    out = []
    for op in OPERATORS:
        i, a = counts[op]
        scores = _iou(i, unit_area + a - i)
        out.extend((scores[c], Formula(formula.first, formula.rest + ((op, c),)), None)
                   for c in range(len(concepts)) if c not in used)
    return out


def _mask(formula, concepts):
    mask = concepts[formula.first]
    for op, c in formula.rest:
        mask = _apply(mask, op, concepts[c])
    return mask


def pack(masks):
    """bool [..., P] -> uint8 [..., ceil(P / 8)] (``np.packbits`` along the last axis)."""
    return np.packbits(masks, axis=-1)
