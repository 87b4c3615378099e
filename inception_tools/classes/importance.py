"""Class-restricted importance: which units matter for a class, next to which are merely active.

From the per-image outcomes of an importance scan of a layer
(:class:`~inception_tools.importance.store.OutcomeStore`), restricted to the
scan's images of class ``k``, for every scored unit ``c``:

- ``class_importance``: images of class ``k`` right (true class in the top k)
  unablated minus right with ``c`` ablated; ``class_newly_wrong``,
  ``class_newly_right`` and the exact McNemar p-value ``class_mcnemar_p``;
- ``class_mean_delta_logprob``: mean change of the true class's
  log-probability when ``c`` is ablated, and its standard error
  ``class_delta_logprob_se`` (over the class's images).

A unit *matters* for a class when its mean delta log-probability is below
zero by more than 1.96 standard errors (a nominal 95% level per unit, not
corrected for the many units). :func:`matter_vs_active` sets that next to the
contributing set of the class-activation statistics and gives the Spearman
correlation, across units, of the class mean activation with the harm of
ablating the unit (minus the delta log-probability).
"""

import numpy as np
from scipy.stats import binom, spearmanr

from inception_tools.errors import UserError

COLUMNS = ("class_importance", "class_newly_wrong", "class_newly_right", "class_mcnemar_p",
           "class_mean_delta_logprob", "class_delta_logprob_se")


def mcnemar_p(newly_wrong, newly_right):
    """Exact two-sided McNemar p-values, elementwise: min(1, 2 P[X <= min(b, c)]), X ~ Bin(b + c, 1/2)."""
    b, c = np.asarray(newly_wrong), np.asarray(newly_right)
    n = b + c
    return np.where(n > 0, np.minimum(1.0, 2 * binom.cdf(np.minimum(b, c), np.maximum(n, 1), 0.5)), 1.0)


def class_importance(store, classes, depth):
    """``{column: [K, depth] array}`` of :data:`COLUMNS` (NaN for units the scan did not score).

    Also returns the number of the scan's images of each class.
    """
    bad = [c for c in store.channels if not 0 <= c < depth]
    if bad:
        raise UserError(f"the importance scan scored unit {bad[0]}, outside a layer of {depth} units")
    out = {name: np.full((len(classes), depth), np.nan) for name in COLUMNS}
    rows = np.asarray(store.channels)
    correct = store.correct
    delta = np.asarray(store.field("delta_logprob"), np.float64)
    n_images = np.zeros(len(classes), np.int64)
    for k, c in enumerate(classes):
        mine = store.labels == c
        n_images[k] = mine.sum()
        if not n_images[k]:
            continue
        base, after = store.base_correct[mine], correct[:, mine]
        wrong = (base & ~after).sum(axis=1)
        right = (~base & after).sum(axis=1)
        d = delta[:, mine]
        out["class_importance"][k, rows] = base.sum() - after.sum(axis=1)
        out["class_newly_wrong"][k, rows] = wrong
        out["class_newly_right"][k, rows] = right
        out["class_mcnemar_p"][k, rows] = mcnemar_p(wrong, right)
        out["class_mean_delta_logprob"][k, rows] = d.mean(axis=1)
        out["class_delta_logprob_se"][k, rows] = d.std(axis=1, ddof=1) / np.sqrt(d.shape[1]) if d.shape[1] > 1 else np.nan
    return out, n_images


def matters(columns):
    """bool [K, C]: mean delta log-probability below zero by more than 1.96 standard errors."""
    mean, se = columns["class_mean_delta_logprob"], columns["class_delta_logprob_se"]
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(mean + 1.96 * se, nan=0.0) < 0


def matter_vs_active(columns, stats, contributing, top=3):
    """Per class: units that matter, that contribute, both; the strongest few; Spearman rho.

    Returns a list of dicts (one per class row of ``stats``).
    """
    matter = matters(columns)
    harm = -columns["class_mean_delta_logprob"]
    out = []
    for k in range(len(stats.mean)):
        scored = np.isfinite(harm[k])
        order = [int(u) for u in np.argsort(-np.where(scored, harm[k], -np.inf), kind="stable")[:top] if scored[u]]
        rho, p = (spearmanr(stats.mean[k, scored], harm[k, scored]) if scored.sum() > 2 else (np.nan, np.nan))
        out.append({
            "scored": int(scored.sum()),
            "matter": int(matter[k].sum()),
            "contributing": int(contributing[k].sum()),
            "both": int((matter[k] & contributing[k]).sum()),
            "matter_not_contributing": int((matter[k] & ~contributing[k]).sum()),
            "top": [{"unit": u, "delta_logprob": float(-harm[k, u]), "active_fraction": float(stats.active_fraction[k, u]),
                     "class_importance": int(columns["class_importance"][k, u])} for u in order],
            "spearman_rho": float(rho), "spearman_p": float(p),
        })
    return out
