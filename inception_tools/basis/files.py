"""A basis study's folder: :func:`write` a :class:`~inception_tools.basis.result.BasisStudy`, :func:`read` it back.

Files (every one through the :class:`~inception_tools.runner.Folder`'s atomic writers):

- ``sample.npz``: the sampled ``A`` (layer output and pre-ReLU, same positions), the positions, the
  layer's dataset mean, the seed;
- ``pca.npz``, ``neuron.npz``: the bases of the layer output (components, variances, sample mean;
  ``dataset_mean`` is the ablation's mean);
- ``explained_variance.csv`` (``k,pcs,neurons``) for the layer output and
  ``explained_variance_pre_relu.csv`` for ``<layer>_pre_relu`` (the paper's tensor),
  ``explained_variance.png`` with both;
- ``ablation.csv``, ``ablation.png``: the cumulative ablation curves, ``ablation.outcomes.npz`` (per
  variant and image: top-1, top-k correct, log-probability);
- ``strips/<basis>_<vvvv>.png`` (+ ``.json``): distance-minimizing strips,
  ``renders-<steps>steps-<size>px-<engine>/<basis>_<vvvv>.png`` (+ ``.npy``): Lucid renders, of the
  chosen basis vectors (``pca_0001`` is PC 1);
- ``gallery/``: the vectors with a strip or render, ranked by variance (or by an importance table);
- ``basis.json``: settings and the k for 80% / 99% of the variance (and the ablation's claim check).
"""

import csv
import json
import os

import numpy as np
from PIL import Image

from inception_tools import layout, runner
from inception_tools.activations.pca import load_basis, save_basis
from inception_tools.basis import ablation, figures
from inception_tools.basis.config import BasisConfig
from inception_tools.basis.page import build_basis_gallery
from inception_tools.basis.render import render_folder
from inception_tools.basis.result import BasisStudy, Curves, explained_curves
from inception_tools.basis.steps import sample_arrays, sample_of
from inception_tools.basis.strip import vector_name
from inception_tools.render_engine import DEFAULT_ENGINE

EXPLAINED = {"layer": "explained_variance.csv", "pre_relu": "explained_variance_pre_relu.csv"}


def output_names(config):
    """The files a study with ``config`` writes (all present = finished); ``config.size`` resolved when rendering."""
    names = ["sample.npz", "pca.npz", "neuron.npz", EXPLAINED["layer"], "explained_variance.png"]
    if config.ablate:
        names += ["ablation.csv", "ablation.png", "ablation.outcomes.npz"]
    for v in config.vectors:
        stem = f"{config.visual_basis}_{v + 1:04d}"
        names += [f"strips/{stem}.png", f"strips/{stem}.json"]
        if config.render:
            names += [f"{render_folder(config.steps, config.size)}/{stem}{ext}" for ext in (".png", ".npy")]
    if config.vectors:
        names.append("gallery/index.html")
    return names + ["basis.json"]


def strip_pixels(images):
    """float [n, H, W, 3] images in [0, 1] side by side as uint8 (as :func:`inception_tools.imagefiles.save_strip`)."""
    return (np.clip(np.concatenate(list(images), axis=1), 0, 1) * 255).round().astype(np.uint8)


def write(result, folder):
    """Every file of ``result`` (a :class:`BasisStudy`) into ``folder`` (a :class:`runner.Folder`)."""
    r = result
    with folder.open("sample.npz", "wb") as f:
        np.savez(f, **sample_arrays(r.sample))
    for kind in ("pca", "neuron"):
        with folder.temporary(f"{kind}.npz") as tmp:
            save_basis(r.bases[kind], tmp, dataset_mean=r.sample.mean)
    curves = {}
    for tensor, rows in r.explained.items():
        with folder.open(EXPLAINED[tensor], newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["k", "pcs", "neurons"])
            writer.writerows(rows)
        curves[r.layer if tensor == "layer" else f"{r.layer}_pre_relu"] = explained_curves(rows)
    with folder.temporary("explained_variance.png") as tmp:
        figures.explained_variance_plot(curves, f"{r.model} {r.layer}: {len(r.sample.layer)} sampled vectors", tmp)
    if r.curves is not None:
        with folder.open("ablation.outcomes.npz", "wb") as f:
            np.savez(f, variants=np.array(r.curves.variants), top1=r.curves.outcomes.top1,
                     topk=r.curves.outcomes.topk, logprob=r.curves.outcomes.logprob)
        with folder.open("ablation.csv", newline="") as f:
            writer = csv.DictWriter(f, ablation.CURVE_COLUMNS)
            writer.writeheader()
            writer.writerows(r.curves.rows)
        with folder.temporary("ablation.png") as tmp:
            figures.ablation_plot(r.curves.rows, f"{r.model} {r.layer}", tmp)
    for v, (grid, meta) in r.strips.items():
        stem = "strips/" + vector_name(r.basis, v)
        with folder.temporary(stem + ".png") as tmp:
            Image.fromarray(grid).save(tmp, format="PNG")
        with folder.open(stem + ".json") as f:
            json.dump(meta, f)
    for v, images in r.renders.items():
        stem = f"{render_folder(r.config.steps, images.shape[1])}/{vector_name(r.basis, v)}"
        folder.write_npy(stem + ".npy", images)
        with folder.temporary(stem + ".png") as tmp:
            Image.fromarray(strip_pixels(images)).save(tmp, format="PNG")
    if r.strips or r.renders:
        build_basis_gallery(folder, r.basis, f"{r.model} {r.layer}", ranking=r.ranking)
    with folder.open("basis.json") as f:
        json.dump(r.summary, f, indent=1, default=str)


def read_curves(path):
    """The rows of ``ablation.csv``, numbers parsed."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for key in r:
            if key not in ("basis", "order"):
                r[key] = int(r[key]) if key in ("k", "n_images", "top_k") else float(r[key])
    return rows


def _explained_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [(int(k), float(pcs) if pcs else "", float(neurons)) for k, pcs, neurons in rows]


def read(folder):
    """The :class:`BasisStudy` of a finished folder (the ranking of the gallery is not read back)."""
    settings = folder.read_json(layout.SETTINGS_JSON)
    config = runner.config_from_dict(BasisConfig, settings["config"])
    with np.load(folder.file("sample.npz"), allow_pickle=False) as f:
        sample = sample_of({key: f[key] for key in f.files})
    bases = {kind: load_basis(folder.file(f"{kind}.npz")) for kind in ("pca", "neuron")}
    explained = {tensor: _explained_rows(folder.file(name)) for tensor, name in EXPLAINED.items()
                 if os.path.isfile(folder.file(name))}
    curves = None
    if config.ablate:
        with np.load(folder.file("ablation.outcomes.npz"), allow_pickle=False) as f:
            outcomes = ablation.Outcomes(f["top1"], f["topk"], f["logprob"])
            variants = f["variants"].tolist()
        curves = Curves(read_curves(folder.file("ablation.csv")), variants, outcomes)
    strips, renders = {}, {}
    for v in config.vectors:
        stem = vector_name(bases[config.visual_basis], v)
        with Image.open(folder.file(f"strips/{stem}.png")) as image:
            grid = np.asarray(image.convert("RGB"))
        with open(folder.file(f"strips/{stem}.json"), encoding="utf-8") as f:
            strips[v] = (grid, json.load(f))
        if config.render:
            renders[v] = np.load(folder.file(f"{render_folder(config.steps, config.size, DEFAULT_ENGINE)}/{stem}.npy"))
    inputs = settings["inputs"]
    return BasisStudy(inputs["model"], inputs["layer"], config, sample, bases, explained, curves, strips, renders,
                      folder.read_json("basis.json"))
