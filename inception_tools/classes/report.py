"""The files of a class-activation study: long-form CSV, matrices, heatmaps, tables, one HTML page.

- ``classes.csv``: one row per layer, class and unit: ``layer,class,label,unit,n_images,mean,variance,
  count,active_fraction,contributing`` (plus class-restricted importance columns when given);
- ``matrices/<layer>_<name>.csv``: the K x K matrices of :mod:`.compare`, classes as row and column labels;
- ``heatmaps/<layer>.png``: those four matrices side by side; ``depth.png``: the mean distance
  between classes per layer with its bootstrap interval;
- ``tables.md``: contributing units per class and layer, and the per-layer distances (and, with
  importance scans, which units matter for each class next to which contribute);
- ``classes.json``: settings, images seen and kept per class, per-layer summaries;
- ``index.html``: all of it on one static page.
"""

import csv
import html
import json
import os

import numpy as np

from inception_tools.atomic import atomic_open
from inception_tools.classes.compare import MATRICES, layer_summary, matrices
from inception_tools.plots import save_png

TITLES = {
    "euclid_mean": "Euclidean distance of means",
    "euclid_count": "Euclidean distance of active fractions",
    "jaccard": "Jaccard similarity of contributing sets",
    "cosine": "cosine similarity of means",
}
DEFINITION_TEXT = {
    "active": "Definition: active (every value counts).",
    "source": "Definition: source (Teague's): a value counts for a class only where the unit's summed path weight "
              "to the class's logit is positive; other values are zeroed before the statistics.",
    "source-gradient": "Definition: source-gradient: a value counts for the image's class only where activation "
                       "times the gradient of the class's logit is positive; other values are zeroed.",
}
CSV_COLUMNS = ["layer", "class", "label", "unit", "n_images", "mean", "variance", "count", "active_fraction",
               "contributing"]


def write_csv(path, stats, classes, labels, min_fraction, extra=None):
    """The long-form CSV; ``extra`` maps ``{column: {layer: [K, C] array}}`` of added columns."""
    extra = extra or {}
    with atomic_open(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS + list(extra))
        for layer, s in stats.items():
            contributing = s.contributing(min_fraction)
            variance, fraction = s.variance, s.active_fraction
            for k, c in enumerate(classes):
                for unit in range(s.mean.shape[1]):
                    row = [layer, c, labels[c], unit, int(s.n[k]), repr(float(s.mean[k, unit])),
                           repr(float(variance[k, unit])), int(s.count[k, unit]), repr(float(fraction[k, unit])),
                           int(contributing[k, unit])]
                    writer.writerow(row + [repr(float(values[layer][k, unit])) for values in extra.values()])


def write_matrix(path, matrix, names):
    with atomic_open(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["class"] + names)
        for name, row in zip(names, matrix):
            writer.writerow([name] + [repr(float(v)) for v in row])


def heatmap(path, layer, mats, names):
    """The four matrices of ``layer`` side by side, values written in the cells when they fit."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.2 * len(MATRICES), 4.0), dpi=80)
    FigureCanvasAgg(figure)
    for i, name in enumerate(MATRICES):
        ax = figure.add_subplot(1, len(MATRICES), i + 1)
        m = mats[name]
        image = ax.imshow(m, cmap="viridis")
        figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        ax.set_xticks(range(len(names)), names, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_title(f"{layer}: {TITLES[name]}", fontsize=8)
        if len(names) <= 12:
            middle = (np.nanmin(m) + np.nanmax(m)) / 2
            for (y, x), v in np.ndenumerate(m):
                ax.text(x, y, f"{v:.2g}", ha="center", va="center", fontsize=5, color="k" if v > middle else "w")
    return save_png(figure, path)


def depth_plot(path, summaries, model_name):
    """Relative distance between classes per layer, with the bootstrap 95% interval."""
    from inception_tools.plots import new_axes

    figure, ax = new_axes(5.0, 3.2)
    layers = list(summaries)
    y = [summaries[layer]["relative_distance"] for layer in layers]
    ci = [summaries[layer].get("relative_distance_ci", [v, v]) for layer, v in zip(layers, y)]
    err = np.abs(np.array(ci).T - np.array(y))
    ax.errorbar(range(len(layers)), y, yerr=err, marker="o", capsize=4)
    ax.set_xticks(range(len(layers)), layers)
    ax.set_ylabel("mean distance / RMS norm of class means")
    ax.set_title(f"{model_name}: how far apart the class means are, by layer", fontsize=9)
    return save_png(figure, path)


def _ci(summary, key, spec=".3g"):
    lo_hi = summary.get(f"{key}_ci")
    return f" [{lo_hi[0]:{spec}}, {lo_hi[1]:{spec}}]" if lo_hi else ""


def tables_markdown(summary):
    """Markdown: contributing units per class and layer; distances between classes per layer."""
    layers = list(summary["layers"])
    lines = ["| class | kept / seen | " + " | ".join(f"{layer} ({summary['layers'][layer]['units']})"
                                                    for layer in layers) + " |",
             "|---|---|" + "---|" * len(layers)]
    for row in summary["per_class"]:
        cells = [str(row["contributing"][layer]) for layer in layers]
        lines.append(f"| {row['label']} | {row['kept']} / {row['seen']} | " + " | ".join(cells) + " |")
    lines += ["", "| layer | units | Euclid. of means | relative distance | Euclid. of active fractions "
              "| Jaccard | cosine |", "|---|---|---|---|---|---|---|"]
    for layer in layers:
        s = summary["layers"][layer]
        lines.append(f"| {layer} | {s['units']} | {s['euclid_mean']:.3g}{_ci(s, 'euclid_mean')} | "
                     f"{s['relative_distance']:.3f}{_ci(s, 'relative_distance', '.3f')} | {s['euclid_count']:.3g} | "
                     f"{s['jaccard']:.3g} | {s['cosine']:.3g} |")
    return "\n".join(lines) + "\n"


def importance_markdown(matter, labels):
    """Markdown: per layer and class, units that matter (ablation) next to units that contribute (activation)."""
    lines = ["| layer | class | scored | contribute | matter | both | matter, not contributing "
             "| most harmful ablations: unit (Δ log p, active fraction) | Spearman ρ (activation, harm) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for layer, rows in matter.items():
        for label, row in zip(labels, rows):
            top = ", ".join(f"{t['unit']} ({t['delta_logprob']:.3g}, {t['active_fraction']:.2f})" for t in row["top"])
            lines.append(f"| {layer} | {label} | {row['scored']} | {row['contributing']} | {row['matter']} | "
                         f"{row['both']} | {row['matter_not_contributing']} | {top} | "
                         f"{row['spearman_rho']:.2f} (p {row['spearman_p']:.2g}) |")
    return "\n".join(lines) + "\n"


def build_summary(stats, classes, labels, seen, kept, config, min_fraction):
    per_class = [{"class": int(c), "label": labels[c], "seen": int(seen[k]), "kept": int(kept[k]),
                  "contributing": {layer: int(s.contributing(min_fraction)[k].sum()) for layer, s in stats.items()}}
                 for k, c in enumerate(classes)]
    return {"settings": dict({"definition": "active"}, **config, min_fraction=min_fraction), "per_class": per_class,
            "layers": {layer: layer_summary(s, min_fraction) for layer, s in stats.items()}}


def summarize(result):
    """The ``classes.json`` summary of a :class:`~inception_tools.classes.result.ClassStats`."""
    classes = result.classes.tolist()
    summary = build_summary(result.stats, classes, dict(zip(classes, result.labels)), result.seen, result.kept,
                            result.settings, result.min_fraction)
    for layer, rows in (result.importance or {}).items():
        summary["layers"][layer]["matter_vs_active"] = rows
    return summary


def _html_table(markdown_lines):
    rows = [line.strip("|").split("|") for line in markdown_lines if line and not line.startswith("|---")]
    head, body = rows[0], rows[1:]
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h.strip())}</th>" for h in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in row) + "</tr>" for row in body]
    return "\n".join(out + ["</table>"])


def write_page(path, summary, tables, layers, extra_table=""):
    settings = summary["settings"]
    blocks = [_html_table(block.splitlines()) for block in tables.strip().split("\n\n")]
    shown = {k: settings[k] for k in ("model", "dataset", "n_images", "threshold", "position", "active_threshold",
                                      "min_fraction", "bootstrap", "definition")}
    heatmaps = "\n".join(f'<h3>{html.escape(layer)}</h3><img src="heatmaps/{html.escape(layer)}.png" '
                         f'alt="{html.escape(layer)} matrices">' for layer in layers)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>classes: {html.escape(settings['model'])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:90em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}}img{{max-width:100%}}code{{background:#eee}}</style>
</head><body>
<h1>Class-conditional activations: {html.escape(settings['model'])}</h1>
<p>Images kept: correct top-1 with probability of the true class at least {settings['threshold']}.
A unit is active on an image when its value ({html.escape(settings['position'])} of the post-ReLU activation
for convolutional layers, the unit for dense ones) exceeds {settings['active_threshold']}; it contributes to a
class when active on at least one of the class's kept images and on at least a fraction
{settings['min_fraction']} of them.
{html.escape(DEFINITION_TEXT[settings['definition']])}
Intervals: 95% Poisson bootstrap over images ({settings['bootstrap']} replicates).</p>
<pre>{html.escape(json.dumps(shown, indent=1))}</pre>
<h2>Contributing units per class and layer</h2>
{blocks[0]}
<h2>Distances between classes, per layer (mean over class pairs)</h2>
{blocks[1]}
<img src="depth.png" alt="relative distance by layer">
{extra_table}
<h2>Matrices</h2>
<p>Values per cell in <code>matrices/&lt;layer&gt;_&lt;name&gt;.csv</code>, per unit in <code>classes.csv</code>.</p>
{heatmaps}
</body></html>
"""
    with atomic_open(path) as f:
        f.write(page)


def write_report(out_dir, result):
    """Write every file of the module docstring into ``out_dir``; return the summary dict.

    Args:
        out_dir: the study folder.
        result: a :class:`~inception_tools.classes.result.ClassStats`; its ``importance_columns`` are added
            CSV columns, its ``importance`` (per layer the rows of
            :func:`~inception_tools.classes.importance.matter_vs_active`) shown as ``importance_table``.

    Returns:
        The ``classes.json`` summary.
    """
    stats, classes, min_fraction, config = result.stats, result.classes.tolist(), result.min_fraction, result.settings
    labels = dict(zip(classes, result.labels))  # output index -> label name
    importance_table = result.importance_table
    names = [labels[c] for c in classes]
    for layer, s in stats.items():
        mats = matrices(s, min_fraction)
        for name, m in mats.items():
            write_matrix(os.path.join(out_dir, "matrices", f"{layer}_{name}.csv"), m, names)
        heatmap(os.path.join(out_dir, "heatmaps", f"{layer}.png"), layer, mats, names)
    summary = summarize(result)
    depth_plot(os.path.join(out_dir, "depth.png"), summary["layers"], config["model"])
    write_csv(os.path.join(out_dir, "classes.csv"), stats, classes, labels, min_fraction, result.importance_columns)
    tables = tables_markdown(summary)
    with atomic_open(os.path.join(out_dir, "tables.md")) as f:
        f.write(tables + ("\n" + importance_table if importance_table else ""))
    with atomic_open(os.path.join(out_dir, "classes.json")) as f:
        json.dump(summary, f, indent=1)
    extra_html = ""
    if importance_table:
        extra_html = ("<h2>Which units matter for each class, next to which contribute</h2>\n<p>A unit matters "
                      "when ablating it (importance scan, mean ablation) lowers the class's mean log-probability "
                      "by more than 1.96 standard errors (nominal, per unit); per-unit values in the class_* "
                      "columns of classes.csv.</p>\n" + _html_table(importance_table.splitlines()))
    write_page(os.path.join(out_dir, "index.html"), summary, tables, list(stats), extra_html)
    return summary
