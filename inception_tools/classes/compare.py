"""Class-by-class comparison matrices of one layer, and their summary over classes.

From a layer's :class:`~inception_tools.classes.stats.ClassAccumulator`, for every
pair of classes (K x K matrices):

- ``euclid_mean``: Euclidean distance between the classes' mean vectors;
- ``euclid_count``: Euclidean distance between their activation-count vectors
  normalized per image (count / n: the fraction of the class's images that
  activate each unit), so classes with different numbers of images compare;
- ``jaccard``: Jaccard similarity |A and B| / |A or B| of the contributing
  sets (1 when both are empty);
- ``cosine``: cosine similarity of the mean vectors (0 when one is zero).

Layers differ in width and scale, so a raw distance does not say whether
classes drift apart with depth. :func:`layer_summary` also gives the
*relative* distance: the mean off-diagonal ``euclid_mean`` divided by the
root-mean-square norm of the class means, which is scale-free (twice a unit's
values, same relative distance) and near sqrt(2) for unrelated directions of
equal length. Its 95% interval and that of the raw distance come from the
Poisson bootstrap replicates the statistics kept.
"""

import numpy as np
from scipy.spatial.distance import cdist

MATRICES = ("euclid_mean", "euclid_count", "jaccard", "cosine")


def jaccard_similarity(sets):
    """Pairwise Jaccard similarity of boolean rows ``sets`` [K, C]; two empty sets count as equal (1)."""
    sets = np.asarray(sets, bool).astype(np.int64)
    inter = sets @ sets.T
    sizes = sets.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def cosine_similarity(vectors):
    """Pairwise cosine similarity of rows ``vectors`` [K, C]; 0 against a zero vector."""
    norms = np.linalg.norm(vectors, axis=1)
    dots = vectors @ vectors.T
    scale = norms[:, None] * norms[None, :]
    return np.where(scale > 0, dots / np.where(scale > 0, scale, 1), 0.0)


def matrices(stats, min_fraction=0.0):
    """``{name: K x K array}`` for the names in :data:`MATRICES`."""
    return {
        "euclid_mean": cdist(stats.mean, stats.mean),
        "euclid_count": cdist(stats.active_fraction, stats.active_fraction),
        "jaccard": jaccard_similarity(stats.contributing(min_fraction)),
        "cosine": cosine_similarity(stats.mean),
    }


def off_diagonal_mean(matrix):
    """Mean of the entries off the diagonal of a square matrix (NaN entries ignored)."""
    k = len(matrix)
    entries = matrix[~np.eye(k, dtype=bool)]
    entries = entries[np.isfinite(entries)]
    return float(entries.mean()) if len(entries) else float("nan")


def relative_distance(means):
    """Mean off-diagonal distance of the rows of ``means`` over their RMS norm."""
    scale = np.sqrt(np.mean(np.sum(means**2, axis=1)))
    return off_diagonal_mean(cdist(means, means)) / scale if scale > 0 else float("nan")


def _interval(draws):
    draws = np.asarray(draws, float)
    draws = draws[np.isfinite(draws)]
    if not len(draws):
        return [float("nan"), float("nan")]
    return [float(v) for v in np.percentile(draws, [2.5, 97.5])]


def layer_summary(stats, min_fraction=0.0):
    """Means over class pairs of every matrix, the relative distance, and bootstrap 95% intervals."""
    mats = matrices(stats, min_fraction)
    summary = {name: off_diagonal_mean(m) for name, m in mats.items()}
    summary["relative_distance"] = relative_distance(stats.mean)
    summary["contributing_mean"] = float(stats.contributing(min_fraction).sum(axis=1).mean())
    summary["units"] = int(stats.mean.shape[1])
    if stats.replicates:
        boot = stats.boot_means()
        summary["euclid_mean_ci"] = _interval([off_diagonal_mean(cdist(b, b)) for b in boot])
        summary["relative_distance_ci"] = _interval([relative_distance(b) for b in boot])
    return summary
