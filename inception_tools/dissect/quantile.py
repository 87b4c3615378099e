"""Per-channel upper quantiles of a layer over every position of every image, in bounded memory.

Network dissection thresholds each channel ``k`` at ``T_k`` with
``P(a_k > T_k) = q`` (Bau et al.: ``q = 0.005``) over all positions of all
images: for InceptionV1 conv2d2 on 1000 photos that is 3.1 million values per
channel, 600 million in all, too many to sort. Two streaming passes find it:

1. **Doubling histogram** (:class:`DoublingHistogram`). Per channel, values
   ``<= 0`` are counted apart (a ReLU's zeros) and positive values go into
   ``bins`` equal bins over ``(0, top]``, where ``top`` is a power of two at
   least the largest value seen. When a larger value arrives, ``top`` doubles
   (as often as needed) and neighbouring bins are summed in pairs, which is
   exact because the bin edges of the wider histogram are edges of the
   narrower one; bin ``j`` holds the values with ``floor(v / top * bins) = j``,
   computed exactly since ``top`` and ``bins`` are powers of two. The
   quantile's order statistics then lie in known bins, ``top / bins`` wide.
2. **Refinement** (:class:`Refinement`): a second pass histograms, into
   ``bins`` sub-bins, only the values of those bins (chosen by the same
   integer bin index, so the counts before them are exact).

The threshold is numpy's default (linear) quantile at ``1 - q``: the order
statistics at 0-based positions ``floor(h)`` and ``floor(h) + 1`` with
``h = (1 - q)(N - 1)``, linearly interpolated. Each order statistic is placed
at the middle of its rank inside its sub-bin, so each is off by less than one
sub-bin width, and so is the interpolated threshold: the **error bound** per
channel is ``width of the bracket / bins``: ``top / bins**2`` per first-pass
bin the bracket spans (one, or two when the order statistics straddle an edge;
with ``top < 2 max`` and ``bins = 1024``, under ``4 max / 10**6``), and 0 when
both are zeros. Memory: ``channels x bins``
counts per pass. Values ``<= 0`` are all placed at 0, exact for the post-ReLU
layers dissected here.
"""

from __future__ import annotations

import numpy as np

BINS = 1024


def _bin_index(values, top, bins):
    """First-pass bin of each positive value of float32 [n, K] ``values`` under per-channel ``top``.

    ``bins / top`` is a power of two, so the float32 product is exact and truncation is the floor;
    entries of values ``<= 0`` are meaningless (callers mask them out).
    """
    scale = np.divide(bins, top, out=np.zeros(len(top)), where=top > 0).astype(np.float32)
    index = (values * scale).astype(np.int32)
    return np.minimum(index, bins - 1, out=index)


def _positions(count, q):
    """0-based order-statistic positions (low, high) and the interpolation fraction of numpy's quantile."""
    h = (1.0 - q) * (count - 1)
    low = np.floor(h).astype(np.int64)
    return low, np.minimum(low + 1, count - 1), h - low


class DoublingHistogram:
    """Per-channel histogram of positive values whose range doubles as larger values arrive.

    Args:
        channels: number of channels (columns of the values).
        bins: bins per channel, a power of two.
    """

    def __init__(self, channels: int, bins: int = BINS):
        if bins < 2 or bins & (bins - 1):
            raise ValueError(f"bins must be a power of two, not {bins}")
        self.bins = bins
        self.count = np.zeros(channels, np.int64)
        self.below = np.zeros(channels, np.int64)
        self.top = np.zeros(channels, np.float64)
        self.hist = np.zeros((channels, bins), np.int64)

    def state(self) -> dict:
        """The arrays that make up the histogram (for a checkpoint)."""
        return {"count": self.count, "below": self.below, "top": self.top, "hist": self.hist}

    @classmethod
    def from_state(cls, state: dict) -> "DoublingHistogram":
        made = cls(state["hist"].shape[0], state["hist"].shape[1])
        for key in ("count", "below", "top", "hist"):
            setattr(made, key, np.array(state[key]))
        return made

    def _grow(self, largest):
        need = np.zeros_like(self.top)
        positive = largest > 0
        need[positive] = 2.0 ** np.ceil(np.log2(largest[positive]))
        need = np.where(need < largest, need * 2, need)
        for k in np.flatnonzero(need > self.top):
            factor = int(round(need[k] / self.top[k])) if self.top[k] > 0 else self.bins
            if factor >= self.bins:
                merged = np.zeros(self.bins, np.int64)
                merged[0] = self.hist[k].sum()
            else:
                merged = np.zeros(self.bins, np.int64)
                merged[: self.bins // factor] = self.hist[k].reshape(-1, factor).sum(axis=1)
            self.hist[k] = merged
            self.top[k] = need[k]

    def update(self, values) -> None:
        """Add [n, K] ``values`` (n positions of K channels)."""
        values = np.asarray(values, np.float32)
        if not len(values):
            return
        self.count += len(values)
        positive = values > 0
        self.below += len(values) - positive.sum(axis=0)
        self._grow(values.max(axis=0).astype(np.float64))
        index = _bin_index(values, self.top, self.bins)
        index += np.arange(values.shape[1], dtype=np.int32) * self.bins
        self.hist += np.bincount(index[positive], minlength=self.hist.size).reshape(self.hist.shape)

    def bracket(self, q: float) -> "Refinement":
        """The first-pass bins that hold the ``1 - q`` quantile's order statistics, ready for a second pass."""
        low_pos, high_pos, _ = _positions(self.count, q)
        cum = self.below[:, None] + np.cumsum(self.hist, axis=1)
        first = np.zeros(len(self.count), np.int64)
        last = np.full(len(self.count), -1, np.int64)  # last < first: both order statistics are zeros
        for k in range(len(self.count)):
            located = [int(np.searchsorted(cum[k], p, side="right")) for p in (low_pos[k], high_pos[k])
                       if p >= self.below[k]]
            if located:
                first[k], last[k] = min(located), max(located)
        before = np.where(first > 0, np.take_along_axis(cum, np.maximum(first - 1, 0)[:, None], 1)[:, 0],
                          self.below)
        return Refinement(self.top, self.bins, first, last, before, self.count, self.below, q)


class Refinement:
    """The second pass: sub-histograms of the bracketing first-pass bins, and the thresholds."""

    def __init__(self, top, bins, first, last, before, count, below, q):
        self.top, self.bins, self.q = np.asarray(top), int(bins), float(q)
        self.first, self.last, self.before = np.asarray(first), np.asarray(last), np.asarray(before)
        self.count, self.below = np.asarray(count), np.asarray(below)
        self.hist = np.zeros((len(self.top), self.bins), np.int64)
        width = self.top / self.bins
        self.lo = self.first * width
        self.span = np.maximum(self.last - self.first + 1, 0) * width

    def state(self) -> dict:
        return {"top": self.top, "bins": np.int64(self.bins), "first": self.first, "last": self.last,
                "before": self.before, "count": self.count, "below": self.below, "q": np.float64(self.q),
                "hist": self.hist}

    @classmethod
    def from_state(cls, s: dict) -> "Refinement":
        refinement = cls(s["top"], int(s["bins"]), s["first"], s["last"], s["before"], s["count"], s["below"],
                         float(s["q"]))
        refinement.hist = np.array(s["hist"])
        return refinement

    def update(self, values) -> None:
        """Add [n, K] ``values``: the same values, in any order, as the first pass saw."""
        values = np.asarray(values, np.float32)
        index = _bin_index(values, self.top, self.bins)
        rows, channels = np.nonzero((values > 0) & (index >= self.first) & (index <= self.last))
        chosen = values[rows, channels].astype(np.float64)
        sub = np.floor((chosen - self.lo[channels]) / self.span[channels] * self.bins)
        sub = np.clip(sub, 0, self.bins - 1).astype(np.int64) + channels * self.bins
        self.hist += np.bincount(sub, minlength=self.hist.size).reshape(self.hist.shape)

    def thresholds(self):
        """(thresholds [K], error bounds [K]): numpy's linear ``1 - q`` quantile per channel, and how far off."""
        low_pos, high_pos, frac = _positions(self.count, self.q)
        width = self.span / self.bins
        cum = np.cumsum(self.hist, axis=1)
        values = np.zeros((2, len(self.top)))
        for k in range(len(self.top)):
            for i, p in enumerate((low_pos[k], high_pos[k])):
                if p < self.below[k] or self.last[k] < self.first[k]:
                    continue  # a zero
                rank = p - self.before[k]
                j = min(int(np.searchsorted(cum[k], rank, side="right")), self.bins - 1)
                inside = rank - (cum[k, j - 1] if j else 0)
                values[i, k] = self.lo[k] + (j + (inside + 0.5) / max(self.hist[k, j], 1)) * width[k]
        thresholds = values[0] + frac * (values[1] - values[0])
        exact = (high_pos < self.below) | (self.last < self.first)
        return thresholds, np.where(exact, 0.0, width)
