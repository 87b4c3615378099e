"""Tuning figures: one channel's curves, several channels compared, the stimuli, the search's spread.

Drawn on bare matplotlib figures (:func:`inception_tools.plots.new_axes`); the
stage writes them through its folder's atomic writers.
"""

import numpy as np

from inception_tools.plots import new_axes


def _closed(values, period):
    """The primary values with the first repeated one period on, so a circular curve closes."""
    return np.append(np.asarray(values, np.float64), values[0] + period)


def _close(curve):
    return np.append(curve, curve[:1])


def channel_figure(result, channel):
    """Response vs the primary value: the best secondary's mean with its 95% band, the others thin,
    the best position's curve dashed."""
    s = result.stats
    fam_x = _closed(result.primary_values, result.period)
    figure, axes = new_axes(6.4, 4.0)
    best = int(s["best_secondary"][channel])
    for j, value in enumerate(result.secondary_values):
        if j != best:
            mean = result.centre[:, j, :, channel].mean(axis=1)
            axes.plot(fam_x, _close(mean), color="0.7", lw=0.8, label=f"{result.secondary} {value}")
    axes.fill_between(fam_x, _close(s["curve_lo"][:, channel]), _close(s["curve_hi"][:, channel]), color="tab:red",
                      alpha=0.25, lw=0)
    axes.plot(fam_x, _close(s["curve"][:, channel]), color="tab:red", lw=2,
              label=f"{result.secondary} {result.secondary_values[best]} (centre, 95% band)")
    axes.plot(fam_x, _close(result.best[:, best, :, channel].mean(axis=1)), color="tab:red", ls="--", lw=1,
              label="best position")
    axes.set_xlabel(f"{result.stimulus} {result.primary} (degrees)")
    axes.set_ylabel(f"{result.layer}:{channel} response (ReLU)")
    axes.set_title(f"{result.model} {result.layer}:{channel}: preferred {s['preferred'][channel]:.0f}, "
                   f"circular variance {s['circular_variance'][channel]:.2f}, "
                   f"peak/mean {s['selectivity'][channel]:.2f}", fontsize=9)
    axes.set_xticks(np.linspace(0, result.period, 9))
    axes.legend(fontsize=7)
    return figure


def compare_figure(result, channels):
    """The channels' tuning curves on one plot, each divided by its peak."""
    figure, axes = new_axes(6.4, 4.0)
    x = _closed(result.primary_values, result.period)
    for c in channels:
        curve = result.stats["curve"][:, c]
        scale = curve.max() or 1.0
        line, = axes.plot(x, _close(curve) / scale, lw=2, label=f"{result.layer}:{c} (peak {curve.max():.3g})")
        axes.fill_between(x, _close(result.stats["curve_lo"][:, c]) / scale,
                          _close(result.stats["curve_hi"][:, c]) / scale, color=line.get_color(), alpha=0.2, lw=0)
    axes.set_xlabel(f"{result.stimulus} {result.primary} (degrees)")
    axes.set_ylabel("response / peak (centre, best " + result.secondary + ")")
    axes.set_xticks(np.linspace(0, result.period, 9))
    axes.set_title(f"{result.model} {result.layer}: tuning to {result.stimulus} {result.primary}", fontsize=9)
    axes.legend(fontsize=7)
    return figure


def search_figure(result):
    """Preferred value vs circular variance of every responding channel; the selective ones marked."""
    s = result.stats
    figure, axes = new_axes(6.4, 4.0)
    live = s["peak"] > 0
    chosen = result.selective
    axes.scatter(s["preferred"][live & ~chosen], s["circular_variance"][live & ~chosen], s=6, color="0.6",
                 label="other responding channels")
    axes.scatter(s["preferred"][chosen], s["circular_variance"][chosen], s=14, color="tab:red",
                 label=f"selective ({int(chosen.sum())})")
    axes.set_xlabel(f"preferred {result.primary} (degrees)")
    axes.set_ylabel("circular variance (0 = one value only)")
    axes.set_xticks(np.linspace(0, result.period, 9))
    axes.set_ylim(0, 1)
    axes.set_title(f"{result.model} {result.layer}: {result.stimulus} search", fontsize=9)
    axes.legend(fontsize=7)
    return figure


def stimulus_sheet(images, columns):
    """uint8 [rows*H, columns*W, 3]: ``images`` [n, H, W, 3] in [0, 1] on a grid."""
    n, h, w, _ = images.shape
    rows = -(-n // columns)
    sheet = np.ones((rows * h, columns * w, 3), np.float32)
    for k, image in enumerate(images):
        sheet[(k // columns) * h:(k // columns + 1) * h, (k % columns) * w:(k % columns + 1) * w] = image
    return (np.clip(sheet, 0, 1) * 255).round().astype(np.uint8)
