"""The figures of a basis study: explained variance, and ablation curves like Dey et al.'s Fig. 6."""

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from inception_tools.plots import new_axes, save_png

STYLES = {("pca", "top"): ("tab:red", "-", "PCs, highest variance first"),
          ("pca", "bottom"): ("tab:red", ":", "PCs, lowest variance first"),
          ("neuron", "top"): ("tab:blue", "-", "neurons, highest variance first"),
          ("neuron", "bottom"): ("tab:blue", ":", "neurons, lowest variance first")}


def explained_variance_plot(curves, title, path):
    """``curves``: {label: (pcs ratios, neuron ratios)}, at most two (solid, dashed); k on a log axis."""
    figure, ax = new_axes(6.4, 4.0)
    for (label, (pcs, neurons)), ls in zip(curves.items(), ("-", "--")):
        ax.plot(np.arange(1, len(pcs) + 1), pcs, color="tab:red", ls=ls, label=f"PCs ({label})")
        ax.plot(np.arange(1, len(neurons) + 1), neurons, color="tab:blue", ls=ls, label=f"neurons ({label})")
    for level in (0.8, 0.99):
        ax.axhline(level, color="0.6", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("k (top-k basis vectors by variance)")
    ax.set_ylabel("explained variance ratio")
    ax.set_ylim(0, 1.01)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return save_png(figure, path)


def ablation_plot(rows, title, path):
    """Top-1 and (when k > 1) top-k accuracy against k ablated, with 95% bands; k = 0 as a dashed line."""
    top_k = rows[0]["top_k"]
    metrics = ("top1", "topk") if top_k > 1 else ("top1",)
    figure = Figure(figsize=(5.5 * len(metrics), 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = np.atleast_1d(figure.subplots(1, len(metrics), sharey=True))
    baseline = [r for r in rows if r["k"] == 0]
    for ax, metric in zip(axes, metrics):
        for (basis, order), (color, ls, label) in STYLES.items():
            sel = sorted((r for r in rows if r["basis"] == basis and r["order"] == order and r["k"] > 0),
                         key=lambda r: r["k"])
            if not sel:
                continue
            ks = [r["k"] for r in sel]
            ax.plot(ks, [r[metric] for r in sel], color=color, ls=ls, marker="o", ms=3, label=label)
            ax.fill_between(ks, [r[metric + "_lo"] for r in sel], [r[metric + "_hi"] for r in sel],
                            color=color, alpha=0.12, lw=0)
        if baseline:
            ax.axhline(baseline[0][metric], color="0.4", lw=0.8, ls="--", label="unablated")
        ax.set_xscale("log")
        ax.set_xlabel("k ablated basis vectors (projected to the mean)")
        ax.set_title(f"{title}: {'top-1' if metric == 'top1' else f'top-{top_k}'}")
    axes[0].set_ylabel("accuracy")
    axes[0].set_ylim(0, 1.01)
    axes[0].legend(fontsize=8)
    return save_png(figure, path)
