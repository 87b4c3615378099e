"""importance.csv from the per-image outcomes: one row per channel, every measure with its interval.

Columns: the study's ``model,layer,feature_ind,importance``; ``newly_wrong``,
``newly_right`` and the exact McNemar p-value of the two; the means over
images of the change of log p(true class), of KL(p || p_ablated) and of the L1
change of the probability vector (:mod:`.measures`); and for each of the
four, the seeded bootstrap 95% interval (``<column>_lo``, ``<column>_hi``).
"""

import numpy as np

from inception_tools.tables import MEASURES
from inception_tools.importance.stats import mcnemar_p

SCORE_COLUMNS = ["importance", "newly_wrong", "newly_right", "mcnemar_p",
                 "mean_delta_logprob", "mean_kl", "mean_abs_prob_change"]
INTERVAL_COLUMNS = [f"{MEASURES[m].column}_{end}" for m in MEASURES for end in ("lo", "hi")]
COLUMNS = ["model", "layer", "feature_ind", *SCORE_COLUMNS, *INTERVAL_COLUMNS]
# A scan of principal components (:mod:`.directions`) adds which basis, and each component's variance.
DIRECTION_COLUMNS = ["basis", "variance", "explained_variance_ratio"]
# An estimated scan (:mod:`.estimated`) adds its estimator, the exact images, and per measure the
# control's correlation with the exact outcomes and the effective number of images.
ESTIMATOR_COLUMNS = ["estimator", "exact_images", *[f"{p}_{MEASURES[m].column}" for p in ("r", "n_eff") for m in MEASURES]]


def _mean(store, field):
    return store.field(field).astype(np.float64).mean(axis=1)


def channel_rows(store, model_name, layer, bounds, estimate=None, channels=None):
    """The CSV rows (dicts of :data:`COLUMNS`) of every channel in ``store``.

    ``bounds`` maps a measure name to ``(lo, hi)`` arrays of its per-image mean
    contribution (:func:`.reliability.assess`); they are turned into the CSV's units.
    ``estimate`` (an estimated scan, :mod:`.estimated`): ``{"n_images": N, "means": {measure: [C]}}``
    replaces the store's means (the counts stay the store's, the exact subsample's; ``store`` is None
    when there is none, and ``channels`` names the rows).
    """
    n = store.n_images if estimate is None else estimate["n_images"]
    channels = store.channels if store is not None else list(channels)
    if store is not None:
        correct = store.correct
        base = store.base_correct[None]
        newly_wrong = (base & ~correct).sum(axis=1)
        newly_right = (~base & correct).sum(axis=1)
    else:
        newly_wrong = newly_right = np.zeros(len(channels), np.int64)
    if estimate is None:
        means = {"mean_delta_logprob": _mean(store, "delta_logprob"), "mean_kl": _mean(store, "kl"),
                 "mean_abs_prob_change": _mean(store, "l1")}
        counts = newly_wrong - newly_right
    else:
        means = {"mean_delta_logprob": -estimate["means"]["delta-logprob"], "mean_kl": estimate["means"]["kl"],
                 "mean_abs_prob_change": estimate["means"]["l1"]}
        counts = n * estimate["means"]["importance"]
    lohi = {}
    for name, (lo, hi) in bounds.items():
        column = MEASURES[name].column
        if name == "importance":
            lo, hi = lo * n, hi * n
        elif name == "delta-logprob":
            lo, hi = -hi, -lo
        lohi[f"{column}_lo"], lohi[f"{column}_hi"] = lo, hi
    rows = []
    for i, channel in enumerate(channels):
        row = {"model": model_name, "layer": layer, "feature_ind": channel,
               "importance": int(counts[i]) if estimate is None else repr(float(counts[i])),
               "newly_wrong": int(newly_wrong[i]), "newly_right": int(newly_right[i]),
               "mcnemar_p": repr(mcnemar_p(int(newly_wrong[i]), int(newly_right[i])))}
        row.update({column: repr(float(values[i])) for column, values in means.items()})
        row.update({column: repr(float(lohi[column][i])) if column in lohi else "" for column in INTERVAL_COLUMNS})
        rows.append(row)
    return rows

