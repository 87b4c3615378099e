"""The static atlas page: ``atlas.html``, readable from disk (no server, no CDN).

Every number is JSON in a ``<script id="atlas-data" type="application/json">``;
``assets/atlas.js`` draws each layer as a grid of its cells' renders (sized
by density when the config says so) and, when a cell is hovered, its count,
its nearest dataset patches and its top classes. The page reuses the
building-blocks stylesheet (``assets/blocks.css``: stage, grid, cells, entry
panel) and adds ``assets/atlas.css``. Renders are ``cells/<layer>/rRR_cCC.png``,
patches ``patches/<layer>/rRR_cCC.png``; all links are relative.
"""

import html
import importlib.resources
import json
import string

import numpy as np
from PIL import Image

ASSETS = (("blocks", "blocks.css"), ("atlas", "atlas.css"), ("atlas", "atlas.js"))


def _web(part, name):
    return importlib.resources.files("inception_tools") / "web" / part / name


def cell_name(row, col):
    """File stem of cell (row, col): ``rRR_cCC``."""
    return f"r{row:02d}_c{col:02d}"


def _save_png(folder, name, pixels):
    with folder.temporary(name) as tmp:
        Image.fromarray(pixels).save(tmp, format="PNG")


def write_images(folder, result):
    """Each cell's render and patch strip as PNGs; returns {layer: [(render, patches) relative paths]}."""
    paths = {}
    for found in result.layers:
        paths[found.layer] = []
        for (row, col), image, crops in zip(found.cells.tolist(), found.renders, found.patches):
            render = f"cells/{found.layer}/{cell_name(row, col)}.png"
            strip = f"patches/{found.layer}/{cell_name(row, col)}.png"
            _save_png(folder, render, (np.clip(image, 0, 1) * 255).round().astype(np.uint8))
            _save_png(folder, strip, np.concatenate(list(crops), axis=1))
            paths[found.layer].append((render, strip))
    return paths


def write_page(folder, result, data):
    """Write ``atlas.html``, its assets and images into ``folder`` (a ``runner.Folder``) from ``data``
    (:func:`inception_tools.atlas.stage.summary` of ``result``)."""
    paths = write_images(folder, result)
    for part, name in ASSETS:
        with folder.open(f"assets/{name}", "w", encoding="utf-8") as f:
            f.write(_web(part, name).read_text(encoding="utf-8"))
    config = data["config"]
    shown = dict(data)
    shown["layers"] = [dict(layer, cells=[dict(cell, render=r, patch_strip=p) for cell, (r, p) in
                                          zip(layer["cells"], paths[layer["layer"]])])
                       for layer in data["layers"]]
    text = json.dumps(shown, separators=(",", ":"))
    title = f"{result.model} activation atlas: {', '.join(config['layers'])}"
    page = string.Template(_web("atlas", "page.html").read_text(encoding="utf-8")).substitute(
        title=html.escape(title), data=text.replace("</", "<\\/"))
    with folder.open("atlas.html", "w", encoding="utf-8") as f:
        f.write(page)
