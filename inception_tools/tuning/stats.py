"""Tuning statistics per channel, with bootstrap intervals over the stimulus jitter.

For one channel, ``R[p, s, r]`` is its response to primary value ``p``,
secondary value ``s``, replicate ``r``. The tuning curve is the mean over
replicates at the channel's best secondary value (the one holding the largest
mean response). From it:

- ``preferred``: the primary value of the curve's peak;
- ``peak``: the curve's largest value; ``peak_relative``: ``peak`` over the
  channel's 99th percentile on natural images (NaN without them);
- ``selectivity``: peak over the curve's mean (1 = flat; NaN for a silent channel);
- ``circular_variance``: ``1 - |sum_p R_p exp(i phi_p)| / sum_p R_p`` with
  ``phi = 2 pi value / period`` (0: one orientation only; 1: flat or opposite
  preferences cancelling; NaN for a silent channel).

Intervals: ``bootstrap`` resamples of the replicates (with replacement; the
best secondary value kept), 2.5th and 97.5th percentiles; for ``preferred``
the percentiles of the resampled peak's circular difference from the estimate.

A channel is *selective* when the upper end of its circular-variance interval
is below ``max_circular_variance`` and its peak is at least
``min_relative_peak`` of its natural 99th percentile (without natural images:
a peak above zero). :func:`coverage` says how the selective channels'
preferred values spread around the circle.
"""

import warnings

import numpy as np

INTERVAL = (2.5, 97.5)


def _curve_stats(curves, values, period):
    """Peak, preferred, selectivity, circular variance of curves [primary, channels]."""
    peak = curves.max(axis=0)
    mean = curves.mean(axis=0)
    phase = np.exp(2j * np.pi * np.asarray(values, np.float64) / period)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        total = curves.sum(axis=0)
        selectivity = np.where(mean > 0, peak / mean, np.nan)
        cv = np.where(total > 0, 1 - np.abs((curves * phase).sum(axis=0)) / total, np.nan)
    preferred = np.asarray(values, np.float64)[curves.argmax(axis=0)]
    return peak, preferred, selectivity, cv


def wrapped(delta, period):
    """Circular difference in [-period/2, period/2)."""
    return (np.asarray(delta) + period / 2) % period - period / 2


def channel_stats(responses, values, period, natural_p99=None, bootstrap=200, seed=0):
    """Statistics of every channel of ``responses`` [primary, secondary, replicates, channels].

    Args:
        responses: non-negative responses.
        values: the primary parameter's values; period: its period.
        natural_p99: float [channels] or None.
        bootstrap: resamples of the replicates; seed: their seed.

    Returns:
        dict of float arrays [channels]: ``best_secondary`` (index), ``peak``, ``peak_relative``, ``preferred``,
        ``selectivity``, ``circular_variance``, each of the last three with ``_lo`` and ``_hi``; and ``curve``
        [primary, channels] with ``curve_lo``, ``curve_hi``.
    """
    responses = np.asarray(responses, np.float64)
    means = responses.mean(axis=2)
    best = means.max(axis=0).argmax(axis=0)
    chosen = np.take_along_axis(responses, best[None, None, None, :], axis=1)[:, 0]  # [primary, replicates, C]
    curve = chosen.mean(axis=1)
    peak, preferred, selectivity, cv = _curve_stats(curve, values, period)
    rng = np.random.default_rng(seed)
    samples = {"curve": [], "preferred": [], "selectivity": [], "circular_variance": []}
    replicates = chosen.shape[1]
    for _ in range(bootstrap):
        resampled = chosen[:, rng.integers(0, replicates, replicates)].mean(axis=1)
        _, pref_b, sel_b, cv_b = _curve_stats(resampled, values, period)
        samples["curve"].append(resampled)
        samples["preferred"].append(wrapped(pref_b - preferred, period))
        samples["selectivity"].append(sel_b)
        samples["circular_variance"].append(cv_b)
    out = {"best_secondary": best.astype(np.float64), "peak": peak, "preferred": preferred,
           "selectivity": selectivity, "circular_variance": cv, "curve": curve}
    with np.errstate(invalid="ignore", divide="ignore"):
        out["peak_relative"] = peak / natural_p99 if natural_p99 is not None else np.full_like(peak, np.nan)
    for name, draws in samples.items():
        if not bootstrap:  # no resamples: the interval is the estimate
            out[f"{name}_lo"], out[f"{name}_hi"] = out[name], out[name]
            continue
        with warnings.catch_warnings():  # a silent channel's NaN statistics give NaN intervals
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = np.nanpercentile(np.array(draws), INTERVAL, axis=0)
        if name == "preferred":
            lo, hi = preferred + lo, preferred + hi
        out[f"{name}_lo"], out[f"{name}_hi"] = lo, hi
    return out


def strong(stats, min_relative_peak):
    """bool [channels]: peak at least ``min_relative_peak`` of the natural 99th percentile (without
    natural images: a peak above zero)."""
    relative = stats["peak_relative"]
    if np.all(np.isnan(relative)):
        return stats["peak"] > 0
    return np.nan_to_num(relative) >= min_relative_peak


def selective(stats, max_circular_variance, min_relative_peak):
    """bool [channels]: the selective channels (see the module docstring)."""
    tight = np.nan_to_num(stats["circular_variance_hi"], nan=1.0) < max_circular_variance
    return tight & strong(stats, min_relative_peak)


def coverage(preferred, period, bins=8):
    """How preferred values spread: counts in ``bins`` equal arcs, arcs covered, the largest empty gap."""
    preferred = np.sort(np.asarray(preferred, np.float64) % period)
    counts = np.histogram(preferred, bins=bins, range=(0, period))[0]
    if len(preferred) == 0:
        gap = period
    else:
        gap = float(np.max(np.diff(np.append(preferred, preferred[0] + period))))
    return {"bins": bins, "counts": counts.tolist(), "covered": int((counts > 0).sum()), "largest_gap": gap}
