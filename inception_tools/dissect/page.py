"""The dissection's page and figure: detectors with their masked top examples.

``index.html`` (the gallery's stylesheet, ``inception_tools/web/gallery/``, and
a few rules of its own in ``inception_tools/web/dissect/``) lists the
detectors by IoU with their concept, category, formula and masked examples
(``examples/channel_<cccc>.png``), under a table of detectors and unique
concepts per category. ``detectors.png`` shows the strongest detectors' examples
for a paper or the documentation. All links are relative.
"""

from __future__ import annotations

import html
import importlib.resources
import string

import numpy as np
from PIL import Image

from inception_tools.dissect import store
from inception_tools.layout import channel_stem

FIGURE_ROWS = 12


def _web(folder, name):
    return (importlib.resources.files("inception_tools") / "web" / folder / name).read_bytes()


def example_path(channel):
    return f"examples/{channel_stem(int(channel))}.png"


def write_examples(result, folder):
    """One PNG strip per shown detector: its masked examples side by side."""
    for channel, strip in zip(result.example_channels, result.examples):
        with folder.temporary(example_path(channel)) as tmp:
            Image.fromarray(np.concatenate(list(strip), axis=1)).save(tmp, format="PNG")


def _summary(result):
    items = {"model": result.model, "layer": result.layer, "images": result.n_images,
             "concepts": f"{len(result.concept_names)} ({result.config.concepts})",
             "threshold": f"P(a > T) = {result.config.quantile} per channel (largest error bound "
                          f"{result.threshold_error.max(initial=0.0):.2g})",
             "masks compared at": f"{result.config.resolution} x {result.config.resolution}",
             "detector": f"best IoU > {result.config.iou_threshold}"}
    return "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in items.items())


def _row(result, rank, channel, formulas, interval):
    best, score = result.best_concept[channel], result.best_iou[channel]
    lo, hi = interval[0][channel], interval[1][channel]
    shown = channel in set(result.example_channels.tolist())
    image = (f'<img class="examples" src="{example_path(channel)}" alt="masked top examples of channel {channel}" '
             f'loading="lazy">' if shown else "")
    formula = formulas.get(int(channel))
    formula = f"{html.escape(formula[0])} ({formula[1]:.3f})" if formula else ""
    return (f'<tr data-channel="{channel}"><td>{rank}</td><td>{channel}</td>'
            f'<td>{html.escape(result.concept_names[best])}</td>'
            f'<td>{html.escape(result.concept_categories[best])}</td>'
            f'<td class="num">{score:.4f} <span class="interval">[{lo:.3f}, {hi:.3f}]</span></td>'
            f'<td class="formula">{formula}</td><td>{image}</td></tr>')


def render_index(result):
    """The page's HTML."""
    found = result.detectors
    formulas = dict(zip(result.formula_channels.tolist(), zip(result.formulas, result.formula_iou.tolist())))
    categories = "\n".join(f"<tr><td>{html.escape(c)}</td><td class=\"num\">{v['detectors']}</td>"
                           f"<td class=\"num\">{v['unique']}</td></tr>" for c, v in result.by_category().items())
    more = len(found) - len(result.example_channels)
    bounds = store.interval(result)
    return string.Template(_web("dissect", "index.html").decode()).substitute(
        title=html.escape(f"{result.model} {result.layer}: network dissection"),
        summary=_summary(result),
        detector_line=f"{len(found)} of {len(result.thresholds)} channels are detectors.",
        category_rows=categories,
        shown_note=f" Examples are shown for the {len(result.example_channels)} strongest; {more} more are listed."
        if more else "",
        rows="\n".join(_row(result, rank, int(k), formulas, bounds) for rank, k in enumerate(found, 1)),
    )


def write_page(result, folder):
    """``index.html``, its assets and the examples."""
    write_examples(result, folder)
    with folder.open("assets/gallery.css", "wb") as f:
        f.write(_web("gallery", "gallery.css"))
    with folder.open("assets/dissect.css", "wb") as f:
        f.write(_web("dissect", "dissect.css"))
    with folder.open("index.html", "w", encoding="utf-8") as f:
        f.write(render_index(result))


def detectors_figure(result, rows=FIGURE_ROWS):
    """A matplotlib figure: the strongest detectors, one row of masked examples each."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = list(zip(result.example_channels[:rows], result.examples[:rows]))
    figure = Figure(figsize=(8, 0.4 + 1.25 * max(len(shown), 1)), dpi=100)
    FigureCanvasAgg(figure)
    if not shown:
        figure.text(0.5, 0.5, f"{result.model} {result.layer}: no detectors", ha="center", va="center")
        return figure
    best, score = result.best_concept, result.best_iou
    for i, (channel, strip) in enumerate(shown):
        ax = figure.add_subplot(len(shown), 1, i + 1)
        ax.imshow(np.concatenate(list(strip), axis=1), interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"channel {channel}: {result.concept_names[best[channel]]}, IoU {score[channel]:.3f}",
                     fontsize=9, loc="left")
    figure.suptitle(f"{result.model} {result.layer}: strongest detectors ({result.config.concepts} concepts, "
                    f"{result.n_images} images)", fontsize=10)
    figure.tight_layout()
    return figure


def write_figure(result, folder, name="detectors.png"):
    figure = detectors_figure(result)
    with folder.temporary(name) as tmp:
        figure.savefig(tmp, format="png")
