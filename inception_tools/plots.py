"""The histogram of a layer's channel importances, and the shared figure plumbing.

Figures are drawn on a bare matplotlib ``Figure`` attached to the Agg canvas (no pyplot,
no display, no global state) and written as PNG atomically. The two study groups always
get the same colours: top in red, middle in blue.
"""

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from inception_tools.atomic import atomic_path
from inception_tools.tables import GROUP_NAMES, read_groups, read_importance

GROUP_COLORS = {"top": "tab:red", "middle": "tab:blue"}


def new_axes(width=6.4, height=4.0):
    """A figure with one set of axes, drawn by the Agg canvas."""
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def save_png(figure, path):
    """Write ``figure`` to ``path`` as PNG, atomically."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", bbox_inches="tight")
    return path


def importance_histogram(importance_csv, out_png, groups_csv=None, bins=50):
    """Histogram of all channels' importances; with ``groups_csv``, the groups drawn over it."""
    table = read_importance(importance_csv)
    figure, ax = new_axes()
    edges = np.histogram_bin_edges(table.importance, bins=bins)
    ax.hist(table.importance, bins=edges, color="0.75", label=f"all channels ({len(table.channels)})")
    if groups_csv is not None:
        groups = read_groups(groups_csv, table).group_of()
        importance = table.importance_of()
        for name in GROUP_NAMES:
            values = [importance[c] for c, g in groups.items() if g == name]
            ax.hist(values, bins=edges, color=GROUP_COLORS[name], label=f"{name} ({len(values)})")
    ax.set_xlabel("importance")
    ax.set_ylabel("channels")
    ax.set_title(f"{table.model} {table.layer}: channel importance")
    ax.legend()
    return save_png(figure, out_png)
