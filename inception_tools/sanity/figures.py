"""The sanity checks' figures: the paper's grid of maps by cascade step, and the similarity curves.

Maps are shown as ``|map|`` scaled by its 99th percentile
(:func:`inception_tools.attribution.overlay.scaled`), in grey, one row per
method; the first column is the image, the second the trained model's map,
then one column per cumulative cascade step (the name is the block
randomized last), and, with the data test, the permuted-label model's map.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from inception_tools.attribution.overlay import scaled  # noqa: E402
from inception_tools.sanity.similarity import MEASURES  # noqa: E402


def cascade_grid(image, examples, methods, blocks, data_examples=None, title=""):
    """The figure: ``examples`` [steps + 1, methods, H, W] (step 0 = trained) of one ``image``."""
    columns = ["image", "trained"] + [f"+{b}" for b in blocks] + (["permuted\nlabels"] if data_examples is not None
                                                                    else [])
    fig, axes = plt.subplots(len(methods), len(columns), figsize=(1.25 * len(columns), 1.3 * len(methods) + 0.6),
                             squeeze=False)
    for row, method in enumerate(methods):
        shown = [examples[s, row] for s in range(examples.shape[0])]
        if data_examples is not None:
            shown.append(data_examples[row])
        axes[row, 0].imshow(image)
        for col, m in enumerate(shown, start=1):
            axes[row, col].imshow(scaled(m), cmap="gray", vmin=0, vmax=1)
        axes[row, 0].set_ylabel(method, fontsize=7, rotation=0, ha="right", va="center")
    for col, name in enumerate(columns):
        axes[0, col].set_title(name, fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def curves(found, title=""):
    """Mean similarity (95% interval band) to the trained maps by cascade step: one panel per measure."""
    blocks = found["blocks"]
    x = np.arange(len(blocks) + 1)
    fig, axes = plt.subplots(1, len(MEASURES), figsize=(4.2 * len(MEASURES), 4), sharey=True)
    for ax, measure in zip(axes, MEASURES):
        for method, values in found["cascade"].items():
            v = values[measure]
            mean = np.r_[1.0, v["mean"]]
            line, = ax.plot(x, mean, marker="o", ms=3, label=method)
            ax.fill_between(x[1:], v["lo"], v["hi"], color=line.get_color(), alpha=0.2)
        ax.set_xticks(x)
        ax.set_xticklabels(["trained"] + blocks, rotation=60, fontsize=7)
        ax.set_title(measure)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_ylim(-0.3, 1.05)
    axes[0].set_ylabel("similarity to the trained model's map")
    axes[-1].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
