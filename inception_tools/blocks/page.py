"""The static building-blocks page of one image (readable from disk, no server, no CDN).

``<out>/index.html`` carries every number as JSON in a
``<script id="blocks-data" type="application/json">``; ``assets/blocks.js``
draws, per layer, the image under a grid of its positions. Hovering a cell
shows that position's dictionary entry (its top channels' thumbnails, each
scaled by its activation); the overlay buttons colour the grid by activation,
by a class's linear or ablation attribution, or by an NMF group's map
(hovering a group card shows its map too). ``blocks.json`` holds the same
data; ``renders/<layer>/`` the thumbnails, copied from the render cache;
``image.png`` the image as the model saw it. All links are relative.
"""

import html
import importlib.resources
import json
import os
import shutil
import string

import numpy as np
from PIL import Image

from inception_tools.atomic import atomic_open, atomic_path
from inception_tools.blocks.render_cache import Unit

ASSETS = ("blocks.js", "blocks.css")
TABLE_ROWS = 4  # channels per sign in each class's table


def _web(name):
    return importlib.resources.files("inception_tools") / "web" / "blocks" / name


def rounded(array, digits=4):
    """Nested lists of floats with ``digits`` significant digits (a small page)."""
    array = np.asarray(array, np.float64)
    return [float(f"{x:.{digits}g}") for x in array] if array.ndim == 1 else [rounded(a, digits) for a in array]


def channel_rows(attribution, order):
    return [{"channel": int(c), "linear": float(f"{attribution.linear_channel[c]:.4g}"),
             "ablation": float(f"{attribution.ablation_channel[c]:.4g}")} for c in order[:TABLE_ROWS]]


def agreement_json(agreement):
    return {"rho": round(agreement.rho, 4), "p": float(f"{agreement.p_value:.3g}"), "n": agreement.n}


def attribution_json(a):
    by_ablation = np.argsort(-a.ablation_channel, kind="stable")
    return {
        "class": a.label, "logit": round(a.logit, 4),
        "linear": rounded(a.linear_position), "ablation": rounded(a.ablation_position),
        "channel_agreement": agreement_json(a.channel_agreement()),
        "baseline_agreement": agreement_json(a.baseline_agreement()),
        "position_agreement": agreement_json(a.position_agreement()),
        "positive": channel_rows(a, by_ablation), "negative": channel_rows(a, by_ablation[::-1]),
        "linear_channel": rounded(a.linear_channel), "ablation_channel": rounded(a.ablation_channel),
        "baseline_channel": rounded(a.baseline_channel),
    }


def layer_json(blocks, units, thumbs):
    """The page data of one layer; ``thumbs`` maps unit names to relative PNG paths."""
    _, height, width, depth = blocks.acts.shape
    groups = blocks.groups
    return {
        "name": blocks.layer, "height": height, "width": width, "depth": depth, "baseline": blocks.baseline,
        "dictionary": {"channels": blocks.dictionary.channels.tolist(), "values": rounded(blocks.dictionary.values)},
        "activation": rounded(np.linalg.norm(blocks.acts[0], axis=-1)),
        "attributions": [attribution_json(a) for a in blocks.attributions],
        "groups": [{"map": rounded(groups.maps[..., i]), "render": thumbs[Unit.direction(v).name],
                    "attribution": rounded(blocks.group_attributions[:, i])} for i, v in enumerate(groups.directions)],
        "nmf_relative_error": round(groups.relative_error(blocks.acts), 4),
        "thumbs": {str(u.channel): thumbs[u.name] for u in units if u.objective == "channel"},
    }


def copy_renders(out_dir, layer, paths):
    """Copy thumbnails ``{unit name: cached png}`` into ``renders/<layer>/``; ``{name: relative path}``."""
    folder = os.path.join(out_dir, "renders", layer)
    os.makedirs(folder, exist_ok=True)
    thumbs = {}
    for name, source in paths.items():
        target = os.path.join(folder, name + ".png")
        if not os.path.isfile(target):
            with atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
        thumbs[name] = f"renders/{layer}/{name}.png"
    return thumbs


def write_if_changed(path, text):
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    with atomic_open(path, encoding="utf-8") as f:
        f.write(text)


def write_page(out_dir, model, image_path, image, all_blocks, renders, settings, summary):
    """Write the page (see the module docstring); returns the path of ``index.html``.

    ``renders[layer]`` is ``(units, {unit name: cached png path})``.
    """
    os.makedirs(os.path.join(out_dir, "assets"), exist_ok=True)
    with atomic_path(os.path.join(out_dir, "image.png")) as tmp:
        Image.fromarray((np.clip(image[0], 0, 1) * 255).round().astype(np.uint8)).save(tmp, format="PNG")
    for name in ASSETS:
        write_if_changed(os.path.join(out_dir, "assets", name), _web(name).read_text(encoding="utf-8"))
    first = all_blocks[0]
    data = {
        "model": model.name, "image": "image.png", "source": os.path.basename(os.fspath(image_path)),
        "classes": [{"index": a.label, "name": model.label_names[a.label], "logit": round(a.logit, 4)}
                    for a in first.attributions],
        "layers": [layer_json(b, renders[b.layer][0], copy_renders(out_dir, b.layer, renders[b.layer][1]))
                   for b in all_blocks],
        "render_settings": {"size": settings.size, "steps": settings.steps, "seed": settings.seed},
        "summary": summary,
    }
    text = json.dumps(data, separators=(",", ":"))
    write_if_changed(os.path.join(out_dir, "blocks.json"), text)
    page = string.Template(_web("page.html").read_text(encoding="utf-8")).substitute(
        title=html.escape(f"{data['source']} - {model.name} building blocks"),
        data=text.replace("</", "<\\/"),
    )
    index = os.path.join(out_dir, "index.html")
    write_if_changed(index, page)
    return index
