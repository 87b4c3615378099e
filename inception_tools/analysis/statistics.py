"""Comparing the per-feature interpretability of the top and middle groups.

- Group mean: the mean of the group's per-feature I values (each feature already averaged
  over its raters, see ``interpretability``).
- Mann-Whitney U (two-sided, ``scipy.stats.mannwhitneyu``): the exact p-value when a
  group has at most 8 features and no I value is tied, else the normal approximation
  with tie correction (scipy's own "auto" rule, made explicit so the report can name it).
  U is the top group's statistic: the number of (top, middle) pairs in which the top
  feature has the larger I, ties counting one half.
- Bootstrap 95% CI for mean(top) - mean(middle): each group is resampled with replacement
  separately, ``resamples`` times with a seeded generator; the interval is the 2.5th and
  97.5th percentiles of the resampled differences (percentile method).
- Agreement between participants, for each pair: over the features both rated, the
  Spearman rank correlation of their I values and the mean absolute difference. The
  correlation is left undefined (None) with fewer than 3 shared features or when either
  participant gave all shared features the same I.
"""

from itertools import combinations

import numpy as np
from scipy import stats

MIN_SHARED_FOR_CORRELATION = 3
EXACT_MAX_SIZE = 8


def group_mean(values):
    return float(np.mean(values)) if len(values) else None


def mann_whitney(top, middle):
    """{"U", "p", "method"} of the two-sided Mann-Whitney U test of top vs middle."""
    pooled = np.concatenate([top, middle])
    tied = len(np.unique(pooled)) < len(pooled)
    method = "exact" if min(len(top), len(middle)) <= EXACT_MAX_SIZE and not tied else "asymptotic"
    result = stats.mannwhitneyu(top, middle, alternative="two-sided", method=method)
    return {"U": float(result.statistic), "p": float(result.pvalue), "method": method}


def bootstrap_difference(top, middle, resamples=10_000, seed=0, level=0.95):
    """{"difference", "low", "high", ...}: mean(top) - mean(middle) and its percentile CI."""
    rng = np.random.default_rng(seed)
    top, middle = np.asarray(top, float), np.asarray(middle, float)
    top_means = top[rng.integers(0, len(top), (resamples, len(top)))].mean(axis=1)
    middle_means = middle[rng.integers(0, len(middle), (resamples, len(middle)))].mean(axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(top_means - middle_means, [tail, 100 - tail])
    return {
        "difference": float(top.mean() - middle.mean()),
        "low": float(low),
        "high": float(high),
        "level": level,
        "resamples": resamples,
        "seed": seed,
    }


def pair_agreement(first, second):
    """Agreement of two participants' {feature: I} over the features both rated."""
    shared = sorted(set(first) & set(second))
    a = np.array([first[f] for f in shared])
    b = np.array([second[f] for f in shared])
    rho = None
    if len(shared) >= MIN_SHARED_FOR_CORRELATION and np.ptp(a) > 0 and np.ptp(b) > 0:
        rho = float(stats.spearmanr(a, b).statistic)
    mad = float(np.mean(np.abs(a - b))) if shared else None
    return {"n_shared": len(shared), "spearman": rho, "mean_abs_difference": mad}


def agreement(per_participant):
    """One agreement record per pair of participants, in name order."""
    records = []
    for p, q in combinations(sorted(per_participant), 2):
        records.append({"participants": [p, q], **pair_agreement(per_participant[p], per_participant[q])})
    return records
