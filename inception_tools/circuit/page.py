"""The static circuit page: a channel, its strongest inputs and outputs, each with render and kernel.

``index.html`` (no script, readable from disk) uses the gallery's stylesheet
(``assets/gallery.css``, copied from ``inception_tools/web/gallery``) plus
``assets/circuit.css``. Images: ``renders/<layer>_<cccc>.png`` (copies of the
render cache's thumbnails), ``kernels/in_<cccc>.png`` and
``kernels/out_<cccc>.png`` (red excitatory, blue inhibitory, one colour scale
per table), ``matrix.png`` (the layer pair's summed kernels).
"""

import html
import importlib.resources

import numpy as np
from PIL import Image

from inception_tools.circuit import expand, figures

ASSETS = (("gallery", "gallery.css"), ("circuit", "circuit.css"))


def render_name(layer, channel):
    return f"renders/{layer}_{int(channel):04d}.png"


def render_key(file_name):
    """``(layer, channel)`` of a file written by :func:`render_name`."""
    layer, channel = file_name[:-len(".png")].rsplit("_", 1)
    return layer, int(channel)


def _image(result, layer, channel):
    key = f"{layer}/{int(channel)}"
    if key not in result.renders:
        return '<span class="hint">not rendered</span>'
    return f'<img class="thumb" src="{render_name(layer, channel)}" alt="{html.escape(key)}">'


def _table(result, kernels, top, layer, prefix, caption):
    chosen = [c for cs in top.values() for c in cs]
    if not chosen:
        return f"<h2>{html.escape(caption)}</h2><p class=\"hint\">none</p>"
    rows = []
    for sign, channels in top.items():
        for rank, c in enumerate(channels, 1):
            k = kernels[:, :, c]
            rows.append(f'<tr class="{sign}"><td>{sign} {rank}</td><td class="num">{int(c)}</td>'
                        f"<td>{_image(result, layer, c)}</td>"
                        f'<td><img class="kernel" src="kernels/{prefix}_{int(c):04d}.png" alt="kernel"></td>'
                        f'<td class="num">{k.sum():+.4g}</td><td class="num">{np.linalg.norm(k):.4g}</td></tr>')
    return (f"<h2>{html.escape(caption)}</h2><table><thead><tr><th>Rank</th><th>Channel</th><th>Render</th>"
            "<th>Kernel</th><th>Summed kernel</th><th>L2 norm</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _write_kernels(folder, kernels, top, prefix):
    chosen = [int(c) for cs in top.values() for c in cs]
    scale = float(max((np.abs(kernels[:, :, c]).max() for c in chosen), default=0.0))
    for c in chosen:
        with folder.temporary(f"kernels/{prefix}_{c:04d}.png") as tmp:
            figures.save_kernel(kernels[:, :, c], scale, tmp)


def write_page(result, folder):
    """Write ``index.html`` and its images and assets into ``folder`` (a :class:`~inception_tools.runner.Folder`)."""
    for key, image in result.renders.items():
        layer, channel = key.split("/")
        with folder.temporary(render_name(layer, channel)) as tmp:
            Image.fromarray(np.asarray(image, np.uint8)).save(tmp, format="PNG")
    _write_kernels(folder, result.kernels, result.top_inputs, "in")
    _write_kernels(folder, result.out_kernels, result.top_outputs, "out")
    for part, name in ASSETS:
        with folder.open(f"assets/{name}", "w", encoding="utf-8") as f:
            f.write((importlib.resources.files("inception_tools") / "web" / part / name).read_text())
    title = f"{result.model} {result.layer}:{result.channel} circuit"
    inputs = _table(result, result.kernels, result.top_inputs, result.inputs_from, "in",
                    f"Strongest inputs from {result.inputs_from}")
    outputs = _table(result, result.out_kernels, result.top_outputs, result.next_layer, "out",
                     f"Strongest outputs to {result.next_layer or 'the next layer'}")
    size = result.kernels.shape[0]
    body = (f"<h1>{html.escape(title)}</h1><p>{_image(result, result.layer, result.channel)}</p>"
            f'<dl class="summary"><dt>Expanded weights</dt><dd>{html.escape(result.inputs_from)} &rarr; '
            f"{html.escape(result.layer)}: {size}x{size} kernels, stride {result.stride}</dd>"
            f"<dt>Linear path</dt><dd>{html.escape(expand.LINEARIZATION)}</dd>"
            f"<dt>Check</dt><dd>max |Jacobian of the linearized graph &minus; kernel| / max |kernel| = "
            f"{result.jacobian_error:.2g}</dd><dt>Ranking</dt><dd>by summed kernel (red excitatory, blue "
            "inhibitory; one colour scale per table)</dd></dl>"
            f"{inputs}{outputs}<h2>All {html.escape(result.inputs_from)} &rarr; {html.escape(result.layer)} "
            'strengths</h2><p><a href="matrix.png"><img class="matrix" src="matrix.png" alt="matrix"></a></p>')
    with folder.open("index.html", "w", encoding="utf-8") as f:
        f.write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<title>{html.escape(title)}</title><link rel="icon" href="data:,">'
                '<link rel="stylesheet" href="assets/gallery.css"><link rel="stylesheet" href="assets/circuit.css">'
                f"</head><body>{body}</body></html>\n")
