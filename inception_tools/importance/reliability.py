"""How far a ranking of channels can be trusted, from the per-image outcomes alone.

A channel's score is a mean over images, so a ranking made from N images is
a sample: another N images would rank the channels differently. Three views
of that, for each measure of :mod:`.measures`:

- **Split-half reliability.** The images are split at random into two halves
  (``splits`` seeded splits); each half ranks the channels; ``rho`` is the mean
  Spearman correlation of the two rankings, the reliability of a ranking made
  from N/2 images. The Spearman-Brown formula ``R(m) = m r / (1 + (m - 1) r)``
  projects it to the full N (m = 2) and gives how many images a ranking needs
  for a target reliability. ``overlap`` is the mean share of the top n channels
  the two halves agree on.
- **Bootstrap intervals.** ``resamples`` seeded resamples of the images (with
  replacement) give each channel's score a 95% percentile interval.
- **Group stability.** For the survey's groups (the top ``top`` channels and
  the ``top`` centred on the median rank): the mean share of a group that is
  again in that group when the channels are ranked on a bootstrap resample.
"""

import math

import numpy as np
from scipy.stats import spearmanr

from inception_tools.errors import UserError
from inception_tools.importance.measures import contributions
from inception_tools.tables import MEASURES

TARGET = 0.9
WARN_BELOW = 0.5
MIN_IMAGES = 4  # the fewest images a split-half can use (two per half)
MIN_CHANNELS = 3  # a rank correlation of two channels is +1 or -1 whatever the data


def rank_order(scores, rng=None):
    """Channel positions, best first; ties by position (the ranking every table uses), or at random with ``rng``.

    Agreement between two rankings is measured with random tie-breaks: breaking the many ties of
    a count (most channels of mixed5a change no image) by channel index would make two unrelated
    rankings agree on the low channel indices.
    """
    tiebreak = np.arange(len(scores)) if rng is None else rng.permutation(len(scores))
    return np.lexsort((tiebreak, -np.asarray(scores)))


def spearman_brown(r, factor=2.0):
    """Reliability of a mean over ``factor`` times as many images as the one with reliability ``r``.

    A reliability lies in [0, 1]: a negative split-half correlation (chance, on few channels or
    images) projects to 0, not to the impossible values the formula gives (-2 for r = -0.5).
    """
    r = min(max(float(r), 0.0), 1.0)
    return float(factor * r / (1 + (factor - 1) * r))


def images_needed(r, n, target=TARGET):
    """Images for reliability ``target`` when ``n`` images give ``r`` (Spearman-Brown); inf when r <= 0."""
    if not r > 0:
        return math.inf
    return max(n * target * (1 - min(r, 1.0)) / (r * (1 - target)), float(MIN_IMAGES))


def _correlation(a, b):
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def split_half(contrib, splits=20, seed=0, top=(10, 40)):
    """Split-half reliability of the ranking by the row means of ``contrib`` [channels, images].

    Returns:
        dict: ``rho`` (mean over splits), ``rho_sd``, ``spearman_brown`` (for all N),
        ``images_for_0.9``, ``overlap`` {n: mean share of the halves' top n}, ``n_images``, ``splits``.
    """
    n = contrib.shape[1]
    if n < MIN_IMAGES:
        raise ValueError(f"split-half reliability needs at least {MIN_IMAGES} images, got {n}")
    rng = np.random.default_rng(seed)
    rhos, overlaps = [], {t: [] for t in top if t <= contrib.shape[0]}
    for _ in range(splits):
        half = np.zeros(n, bool)
        half[rng.permutation(n)[: n // 2]] = True
        a, b = contrib[:, half].mean(axis=1), contrib[:, ~half].mean(axis=1)
        rhos.append(_correlation(a, b))
        order_a, order_b = rank_order(a, rng), rank_order(b, rng)
        for t in overlaps:
            overlaps[t].append(len(np.intersect1d(order_a[:t], order_b[:t])) / t)
    rho = float(np.mean(rhos))
    notes = []
    if contrib.shape[0] < MIN_CHANNELS:
        notes.append(f"too few channels ({contrib.shape[0]}) for a rank correlation: rho means nothing")
    if splits < 2:
        notes.append("one split: no sd")
    return {
        "rho": rho,
        "rho_sd": float(np.std(rhos, ddof=1)) if splits > 1 else None,
        "notes": notes,
        "spearman_brown": spearman_brown(rho),
        f"images_for_{TARGET}": images_needed(rho, n / 2),
        "overlap": {str(t): float(np.mean(v)) for t, v in overlaps.items()},
        "n_images": n,
        "splits": splits,
    }


def resample_weights(n, resamples, seed, chunk=64):
    """Yield bootstrap resamples of ``n`` images as count matrices [chunk, n] (float64), seeded."""
    rng = np.random.default_rng(seed)
    for b0 in range(0, resamples, chunk):
        size = min(chunk, resamples - b0)
        draws = rng.integers(0, n, (size, n)) + (np.arange(size) * n)[:, None]
        yield np.bincount(draws.ravel(), minlength=size * n).reshape(size, n).astype(np.float64)


def bootstrap_means(contrib, resamples=1000, seed=0):
    """Row means of ``contrib`` [channels, images] on each bootstrap resample: [resamples, channels]."""
    n = contrib.shape[1]
    values = np.ascontiguousarray(contrib.T, np.float64)
    return np.concatenate([w @ values / n for w in resample_weights(n, resamples, seed)])


def intervals(means, level=0.95):
    """Percentile interval of each column of bootstrap ``means``: ``(lo, hi)`` arrays."""
    tail = (1 - level) / 2 * 100
    return np.percentile(means, tail, axis=0), np.percentile(means, 100 - tail, axis=0)


def group_stability(scores, means, top, seed=0):
    """Mean share of the top group and of the middle group found again on each resample.

    ``scores`` [channels] rank the channels (ties by index, as the survey's groups);
    ``means`` [resamples, channels] are their bootstrap scores, ranked with seeded
    random tie-breaks; both groups have ``top`` channels (middle: centred on the
    median rank, as :func:`inception_tools.selection.middle_start`).
    """
    rng = np.random.default_rng(seed)
    c = len(scores)
    start = (c - top) // 2
    order = rank_order(scores)
    groups = {"top": order[:top], "middle": order[start:start + top]}
    kept = {name: [] for name in groups}
    for resampled in means:
        again = rank_order(resampled, rng)
        for name, members in groups.items():
            block = again[:top] if name == "top" else again[start:start + top]
            kept[name].append(len(np.intersect1d(members, block)) / top)
    return {name: float(np.mean(v)) for name, v in kept.items()}


def check_group_size(top, n_channels):
    """The group size ``top`` (None: the default), checked to fit twice in ``n_channels``."""
    if top is None:
        return default_group_size(n_channels)
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or not 1 <= top <= max(1, n_channels // 2):
        raise UserError(f"group size must be an integer from 1 to {max(1, n_channels // 2)} (the top and middle "
                        f"groups both fit in {n_channels} channels), not {top!r}")
    return int(top)


def default_group_size(n_channels):
    """The survey's group size: 40, at most a quarter of the channels (as ``run``)."""
    return max(1, min(40, n_channels // 4))


def assess(store, splits=20, seed=0, resamples=1000, top=None, measures=tuple(MEASURES)):
    """Split-half reliability, bootstrap intervals and group stability of every measure.

    Returns:
        ``(report, bounds)``: ``report`` is JSON-ready ({"measures": {name: {...}}, settings});
        ``bounds`` maps a measure to its (lo, hi) arrays of channel means.
    """
    top = check_group_size(top, len(store.channels))
    report = {"splits": splits, "seed": seed, "resamples": resamples, "level": 0.95, "group_size": top,
              "n_images": store.n_images, "n_channels": len(store.channels), "measures": {}}
    bounds = {}
    for name in measures:
        contrib = contributions(store, name)
        if np.isnan(contrib).any():
            continue
        entry = split_half(contrib, splits, seed, top=(10, top))
        means = bootstrap_means(contrib, resamples, seed)
        bounds[name] = intervals(means)
        if len(store.channels) >= 2 * top:
            entry["groups_kept"] = group_stability(contrib.mean(axis=1), means, top, seed)
        report["measures"][name] = entry
    return report, bounds


def _images(x, n=None):
    if math.isinf(x):
        return "never (rho <= 0)"
    if n is not None and x <= n:
        return f"<= {n:,} (reached)"
    return f"~{x:,.0f}" if x < 1e6 else f"~{x:.1e}"


def summary_line(report, name):
    """One line: a measure's split-half rho, its full-N estimate and the images needed for 0.9."""
    entry = report["measures"][name]
    return (f"{name}: split-half rho {entry['rho']:.2f} (sd {_number(entry['rho_sd'])}), "
            f"full-N ({entry['n_images']} images) {entry['spearman_brown']:.2f}, "
            f"{_images(entry[f'images_for_{TARGET}'], entry['n_images'])} images for {TARGET}"
            + "".join(f"; {note}" for note in entry.get("notes", ())))


def table(report):
    """A text table of every measure (what ``inception-tools reliability`` prints)."""
    top = report["group_size"]
    head = (f"reliability over {report['n_images']} images ({report['splits']} seeded split-halves, "
            f"{report['resamples']} bootstrap resamples)")
    lines = [head, f"{'measure':<14} {'split-half':>10} {'full-N':>7} {'images for 0.9':>16} "
                   f"{'top-10 overlap':>15} {f'top-{top} overlap':>15} {'top kept':>9} {'middle kept':>12}"]
    for name, entry in report["measures"].items():
        kept = entry.get("groups_kept", {})
        lines.append(f"{name:<14} {entry['rho']:>10.2f} {entry['spearman_brown']:>7.2f} "
                     f"{_images(entry[f'images_for_{TARGET}'], entry['n_images']):>16} "
                     f"{_number(entry['overlap'].get('10')):>15} {_number(entry['overlap'].get(str(top))):>15} "
                     f"{_number(kept.get('top'), '.0%'):>9} {_number(kept.get('middle'), '.0%'):>12}")
    notes = sorted({note for entry in report["measures"].values() for note in entry.get("notes", ())})
    if report.get("n_channels", 2 * top) < 2 * top:
        notes.append(f"fewer than {2 * top} channels: no group stability for groups of {top}")
    lines += [f"note: {note}" for note in notes]
    return "\n".join(lines)


def _number(value, spec=".2f"):
    """``value`` formatted, or ``n/a`` when there is none (too few channels for that figure)."""
    return "n/a" if value is None else format(value, spec)


def warning(report, name):
    """A one-line warning when measure ``name`` ranks unreliably (split-half rho < 0.5), else None."""
    if not report or name not in report.get("measures", {}):
        return None
    entry = report["measures"][name]
    if entry["rho"] >= WARN_BELOW:
        return None
    reliable = [(e["rho"], m) for m, e in report["measures"].items() if e["rho"] >= WARN_BELOW]
    better = f"; {max(reliable)[1]} is reliable here (split-half rho {max(reliable)[0]:.2f})" if reliable else ""
    return (f"warning: ranking by {name} is unreliable on these {entry['n_images']} images (split-half rho "
            f"{entry['rho']:.2f} < {WARN_BELOW}); it needs {_images(entry[f'images_for_{TARGET}'])} images "
            f"for {TARGET}{better}")
