"""How alike two saliency maps are: the similarity measures of Adebayo et al. (2018), and intervals over images.

For two maps ``a``, ``b`` [H, W] of the same image (one from the trained
model, one from a randomized or retrained model):

- ``spearman_abs``: Spearman rank correlation of ``|a|`` and ``|b|`` over pixels
  (the paper's main measure: does the ranking of important pixels survive?);
- ``spearman``: Spearman rank correlation of the signed maps;
- ``ssim``: structural similarity (``skimage.metrics.structural_similarity``,
  default 7x7 window) of ``|a| / max|a|`` and ``|b| / max|b|`` on the range [0, 1];
- ``hog``: Pearson correlation of the histograms of oriented gradients
  (``skimage.feature.hog``, 9 orientations, cells of ``H / 14`` pixels, 2x2
  blocks) of the same normalized ``|a|`` and ``|b|``.

A constant map (Grad-CAM is all zero where no feature map has a positive
weighted sum) ranks nothing: its rank and HOG correlations are 0 by
convention, and its SSIM is computed as usual.

Intervals: the mean over images with a percentile bootstrap 95% interval
(images resampled with replacement, seeded).
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from skimage.feature import hog
from skimage.metrics import structural_similarity

MEASURES = ("spearman_abs", "spearman", "ssim", "hog")


def _normalized(m):
    magnitude = np.abs(np.asarray(m, np.float64))
    top = magnitude.max()
    return magnitude / top if top > 0 else magnitude


def _correlation(function, a, b):
    a, b = np.ravel(a), np.ravel(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(function(a, b)[0])


def _hog(m):
    cell = max(2, m.shape[0] // 14)
    return hog(_normalized(m), orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(2, 2),
               feature_vector=True)


def measures(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float64 [4]: the :data:`MEASURES` of maps ``a`` and ``b`` [H, W]."""
    return np.array([
        _correlation(stats.spearmanr, np.abs(a), np.abs(b)),
        _correlation(stats.spearmanr, a, b),
        float(structural_similarity(_normalized(a), _normalized(b), data_range=1.0)),
        _correlation(stats.pearsonr, _hog(a), _hog(b)),
    ])


def compare(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    """float32 [methods, measures, N]: each method's maps ``other`` against ``reference`` (both [methods, N, H, W])."""
    out = np.zeros((reference.shape[0], len(MEASURES), reference.shape[1]), np.float32)
    for k in range(reference.shape[0]):
        for i in range(reference.shape[1]):
            out[k, :, i] = measures(reference[k, i], other[k, i])
    return out


def interval(values: np.ndarray, seed: int = 0, resamples: int = 1000) -> tuple:
    """``(mean, lo, hi)``: the mean of ``values`` over its last axis and a bootstrap 95% interval."""
    values = np.asarray(values, np.float64)
    rng = np.random.default_rng(seed)
    n = values.shape[-1]
    means = values[..., rng.integers(0, n, (resamples, n))].mean(axis=-1)
    return values.mean(axis=-1), np.percentile(means, 2.5, axis=-1), np.percentile(means, 97.5, axis=-1)
