"""A static gallery of a basis: its vectors ranked by variance or by importance, a page per vector.

``build_basis_gallery(folder, basis, title, ranking=None)`` writes ``gallery/`` in the study folder:
``index.html`` (rank, render and strip thumbnails, variance, explained and
cumulative explained variance, the neurons with the largest loadings) and
``<basis>_<vvvv>.html`` per vector (its render, its distance-minimizing strip
with the projection of each column, its loadings). With ``ranking`` (the
table of ``importance --basis pca`` on the same components, read by
:func:`importance_ranking`) the vectors are ordered by its score and each
row shows the score with its 95% interval. It uses the channel
gallery's stylesheet and thumbnails; links are relative, so the folder opens
from disk.
"""

import glob
import html
import json
import os

import numpy as np

from inception_tools import layout
from inception_tools.activations.pca import load_basis
from inception_tools.errors import UserError
from inception_tools.tables import measure
from inception_tools.tables import read_importance
from inception_tools.basis.strip import vector_name
from inception_tools.gallery import _web_file, make_thumbnail

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/gallery.css"></head>
<body><nav>{nav}</nav><header><h1>{title}</h1></header><main>
{body}
</main></body></html>
"""


THUMB = 'class="thumb" '


def _loadings(basis, v, n=5):
    u = basis.vectors[:, v]
    top = np.argsort(-np.abs(u), kind="stable")[:n]
    return ", ".join(f"{c} ({u[c]:+.2f})" for c in top)


def _img(out, path, alt, cls=""):
    if not os.path.isfile(path):
        return f'<span class="hint">no {html.escape(alt)}</span>'
    rel = html.escape(os.path.relpath(path, out).replace(os.sep, "/"))
    return f'<img {cls}src="{rel}" alt="{html.escape(alt)}" loading="lazy">'


def _render_png(out_dir, name):
    found = sorted(glob.glob(os.path.join(out_dir, "renders-*", name + ".png")))
    return found[0] if found else os.path.join(out_dir, "renders", name + ".png")


def importance_ranking(csv_path, basis, score="importance"):
    """The importance table of ``basis``'s components (``importance --basis pca``), checked to be the same components.

    Raises UserError when the table scored other components (other data, seed or batch size).
    """
    table = read_importance(csv_path, score, basis=basis.kind)
    scored = load_basis(layout.directions_file(csv_path))
    n = min(len(scored), len(basis))
    if scored.dim != basis.dim or not np.allclose(scored.vectors[:, :n], basis.vectors[:, :n], atol=1e-4):
        raise UserError(f"{csv_path} scored other principal components than this basis (other data, seed or "
                        "batch size): score the principal components again with this basis's settings")
    return table


def _score_cells(table, v):
    """The score of vector ``v`` in ``table`` and its 95% interval, as text."""
    chosen = measure(table.score)
    row = table.rows[list(table.channels).index(v)]
    lo, hi = row.get(f"{chosen.column}_lo"), row.get(f"{chosen.column}_hi")
    interval = f" [{float(lo):.3g}, {float(hi):.3g}]" if lo and hi else ""
    return f"{float(row[chosen.column]):.3g}{interval}"


def build_basis_gallery(folder, basis, title, vectors=None, ranking=None):
    """Write the gallery of ``vectors`` (0-based; default: those with a strip or render) and return index.html.

    Args:
        folder: the study folder (a :class:`~inception_tools.runner.Folder`) holding ``strips/`` and the renders.
        basis: the :class:`~inception_tools.activations.pca.Basis` of the vectors.
        title: the page's title (model and layer).
        vectors: 0-based vectors to show (default: those with a strip or render in ``folder``).
        ranking: an :func:`importance_ranking` table: order by its score instead of variance.

    Returns:
        The path of ``gallery/index.html``.
    """
    out_dir = folder.path
    out = os.path.join(out_dir, "gallery")
    with folder.open("gallery/assets/gallery.css", "wb") as f:
        f.write(_web_file("gallery.css"))
    if vectors is None:
        vectors = [v for v in range(len(basis)) if os.path.isfile(os.path.join(out_dir, "strips", vector_name(basis, v) + ".png"))
                   or os.path.isfile(_render_png(out_dir, vector_name(basis, v)))]
    rank = {}
    if ranking is not None:
        rank = ranking.rank_of()
        missing = [v + 1 for v in vectors if v not in rank]
        if missing:
            raise UserError(f"{ranking.path} has no score for {basis.kind} vector(s) {missing[:5]}")
        vectors = sorted(vectors, key=rank.get)
    ratio = basis.variances / basis.total_variance
    cumulative = basis.explained()
    rows = []
    for i, v in enumerate(vectors):
        name = vector_name(basis, v)
        strip, render = os.path.join(out_dir, "strips", name + ".png"), _render_png(out_dir, name)
        thumbs = {}
        for kind, source in (("render", render), ("strip", strip)):
            thumbs[kind] = os.path.join(out, "thumbs", f"{name}_{kind}.png")
            make_thumbnail(source, thumbs[kind])
        cells = "".join(f'<td><a href="{name}.html">{_img(out, thumbs[kind], kind, THUMB)}</a></td>'
                        for kind in ("render", "strip"))
        scored = f'<td class="num">{rank[v]}</td><td class="num">{_score_cells(ranking, v)}</td>' if rank else ""
        rows.append(f'<tr>{scored}<td>{v + 1}</td>{cells}'
                    f'<td class="num">{basis.variances[v]:.4g}</td><td class="num">{ratio[v]:.2%}</td>'
                    f'<td class="num">{cumulative[v]:.2%}</td><td>{_loadings(basis, v)}</td></tr>')
        nav = " · ".join([f'<a href="index.html">all vectors</a>']
                         + [f'<a href="{vector_name(basis, vectors[j])}.html">{label}</a>'
                            for j, label in ((i - 1, "previous"), (i + 1, "next")) if 0 <= j < len(vectors)])
        strip_json = strip.replace(".png", ".json")
        caption = "Distance-minimizing strip: columns are points along the direction, nearest patches on top"
        if os.path.isfile(strip_json):
            with open(strip_json) as f:
                ts = json.load(f)["t"]
            caption += "; projections " + ", ".join(f"{t:.3g}" for t in ts)
        score_rows = (f'<tr><th>Rank by {ranking.score}</th><td class="num">{rank[v]}</td></tr>'
                      f'<tr><th>{ranking.score} [95% interval]</th><td class="num">{_score_cells(ranking, v)}</td></tr>'
                      if rank else "")
        body = (f'<table class="stats">{score_rows}<tr><th>Rank by variance</th><td class="num">{v + 1}</td></tr>'
                f'<tr><th>Variance</th><td class="num">{basis.variances[v]:.6g}</td></tr>'
                f'<tr><th>Explained variance</th><td class="num">{ratio[v]:.3%}</td></tr>'
                f'<tr><th>Cumulative (top {v + 1})</th><td class="num">{cumulative[v]:.3%}</td></tr>'
                f'<tr><th>Largest loadings (channel, weight)</th><td>{_loadings(basis, v, 10)}</td></tr></table>'
                f'<figure>{_img(out, render, "render")}<figcaption>Lucid render of the direction '
                f'(direction objective with diversity, 4 images)</figcaption></figure>'
                f'<figure>{_img(out, strip, "strip")}<figcaption>{html.escape(caption)}</figcaption></figure>')
        with folder.open(f"gallery/{name}.html") as f:
            f.write(PAGE.format(title=html.escape(f"{title}: {basis.kind} vector {v + 1}"), nav=nav, body=body))
    score_heads = f'<th>rank by {ranking.score}</th><th>{ranking.score} [95% interval]</th>' if rank else ""
    table = (f'<table><thead><tr>{score_heads}<th>rank by variance</th><th>render</th><th>strip</th><th>variance</th><th>explained</th>'
             '<th>cumulative</th><th>largest loadings (channel, weight)</th></tr></thead><tbody>'
             + "\n".join(rows) + "</tbody></table>")
    index = os.path.join(out, "index.html")
    with folder.open("gallery/index.html") as f:
        order = f"by {ranking.score} (from {os.path.basename(ranking.path)})" if rank else "by variance"
        f.write(PAGE.format(title=html.escape(f"{title}: {basis.kind} basis {order}"), nav="", body=table))
    return index
