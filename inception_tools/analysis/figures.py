"""Figures of the survey analysis: I per group, and I against importance.

Both plot per-feature I (the mean over a feature's raters). The histogram bins span
[0, 1] in tenths, widened to whole tenths around any value kept outside that range by
``--keep-invalid``.
"""

import math

import numpy as np

from inception_tools.tables import GROUP_NAMES
from inception_tools.plots import GROUP_COLORS, new_axes, save_png


def interpretability_bins(values):
    low = min([0.0, *values])
    high = max([1.0, *values])
    return np.arange(math.floor(low * 10), math.ceil(high * 10) + 1) / 10


def interpretability_histogram(features, path):
    """Histogram of per-feature I, the groups' bars side by side; ``features`` as in the summary."""
    values = {g: [f["I"] for f in features if f["group"] == g and f["I"] is not None] for g in GROUP_NAMES}
    figure, ax = new_axes()
    bins = interpretability_bins([v for group in values.values() for v in group])
    ax.hist(
        [values[name] for name in GROUP_NAMES],
        bins=bins,
        color=[GROUP_COLORS[name] for name in GROUP_NAMES],
        label=[f"{name} ({len(values[name])})" for name in GROUP_NAMES],
    )
    ax.set_xlabel("interpretability I (mean over raters)")
    ax.set_ylabel("features")
    ax.legend()
    return save_png(figure, path)


def interpretability_scatter(features, path):
    """Per-feature I against importance, coloured by group."""
    figure, ax = new_axes()
    for name in GROUP_NAMES:
        rated = [f for f in features if f["group"] == name and f["I"] is not None]
        ax.scatter(
            [f["importance"] for f in rated],
            [f["I"] for f in rated],
            color=GROUP_COLORS[name],
            label=f"{name} ({len(rated)})",
        )
    ax.set_xlabel("importance")
    ax.set_ylabel("interpretability I (mean over raters)")
    ax.legend()
    return save_png(figure, path)
