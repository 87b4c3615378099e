"""The atlas stage: config, result, ``compute`` (in memory), ``write`` and ``read`` (a folder).

``compute`` samples every layer's vectors in one pass
(:mod:`~inception_tools.atlas.sample`), then per layer: the UMAP layout
(:mod:`~inception_tools.atlas.embed`), the grid's kept cells with their
averages and counts (:mod:`~inception_tools.atlas.grid`), one render per
kept cell (:mod:`~inception_tools.atlas.render`), the classes each cell
pushes most (:mod:`~inception_tools.atlas.classes`) and its nearest dataset
patches (:mod:`~inception_tools.atlas.patches`). The sample, each layout, each
render batch and each layer's class scores are checkpointed, so a killed run
resumes where it stopped and writes the same bytes. ``seconds`` holds the
wall time of each phase and ``cpu_seconds`` the process's CPU time (not written, so reruns
compare byte for byte).

Files: ``atlas.npz`` (every array, ``<i>_<name>`` for layer ``i``),
``atlas.json`` (settings, per layer its cells with count, top classes and
patches), ``atlas.png`` (:mod:`~inception_tools.atlas.canvas`),
``cells/<layer>/rRR_cCC.png`` (each render), ``patches/<layer>/rRR_cCC.png``
(each cell's patches side by side) and ``atlas.html`` with ``assets/``
(:mod:`~inception_tools.atlas.page`).
"""

from __future__ import annotations

import dataclasses
import math
import time
import zipfile
from typing import Optional

import numpy as np

from inception_tools import runner
from inception_tools.atlas import canvas, classes, embed, grid, page, patches, render, sample
from inception_tools.errors import UserError
from inception_tools.receptive_field import layer_field
from inception_tools.render_engine import ENGINES

ARRAYS = ("vectors", "rows", "positions", "layout", "cells", "counts", "means", "renders", "scores", "top",
          "patch_rows", "patch_positions", "patches")
PATCH_TILE = 64


def _count(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise UserError(f"{name} must be an integer of at least {low}, not {value!r}")


@dataclasses.dataclass(frozen=True)
class AtlasConfig:
    """Settings of an atlas (see :mod:`inception_tools.atlas`).

    Attributes:
        layers: the layers, side by side in that order.
        grid: cells per side of the grid over the layout.
        per_image: random positions sampled per image (distinct).
        seed: seed of the positions, the layout and the renders.
        min_count: fewest vectors a rendered cell averages.
        size: render size in pixels (None: the model's input size).
        steps: optimization steps per render.
        render_batch: cells rendered together in one optimization (memory grows with it).
        cossim_pow: the objective's cosine-similarity power (0: plain dot product; the paper's recipe: 2).
        patches: nearest dataset patches shown per cell.
        top_classes: classes listed per cell.
        by_density: size each render in atlas.png by the number of vectors it averages.
        engine: render engine (``fast`` or ``render_vis``).
        batch_size: images per forward pass while sampling.
    """

    layers: tuple
    grid: int = 20
    per_image: int = 1
    seed: int = 0
    min_count: int = 5
    size: Optional[int] = None
    steps: int = 128
    render_batch: int = 32
    cossim_pow: float = 2.0
    patches: int = 6
    top_classes: int = 5
    by_density: bool = False
    engine: str = "fast"
    batch_size: int = 32

    def __post_init__(self):
        if isinstance(self.layers, str):
            object.__setattr__(self, "layers", tuple(x.strip() for x in self.layers.split(",")))
        elif isinstance(self.layers, list):
            object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers or not all(isinstance(x, str) and x for x in self.layers):
            raise UserError(f"layers must be one or more layer names, not {self.layers!r}")
        if len(set(self.layers)) != len(self.layers):
            raise UserError(f"layers are repeated: {', '.join(self.layers)}")
        for name in ("grid", "per_image", "min_count", "steps", "render_batch", "patches", "top_classes",
                     "batch_size"):
            _count(name, getattr(self, name))
        _count("seed", self.seed, 0)
        if self.size is not None:
            _count("size", self.size, 8)
        if isinstance(self.cossim_pow, bool) or not isinstance(self.cossim_pow, (int, float)) \
                or not math.isfinite(self.cossim_pow) or self.cossim_pow < 0:
            raise UserError(f"cossim_pow must be a finite number of at least 0, not {self.cossim_pow!r}")
        if not isinstance(self.by_density, bool):
            raise UserError(f"by_density must be true or false, not {self.by_density!r}")
        if self.engine not in ENGINES:
            raise UserError(f"unknown render engine {self.engine!r}; choose one of {', '.join(ENGINES)}")


@dataclasses.dataclass
class LayerAtlas:
    """One layer's atlas: ``n`` sampled vectors, ``m`` kept cells."""

    layer: str
    shape: tuple  # the layer's (H, W)
    vectors: np.ndarray  # float32 [n, d]
    rows: np.ndarray  # int64 [n]: dataset row of each vector
    positions: np.ndarray  # int64 [n, 2]: (y, x) in the layer
    layout: np.ndarray  # float64 [n, 2] in [0, 1]: the normalized UMAP layout
    cells: np.ndarray  # int64 [m, 2]: (row, column) of each kept cell
    counts: np.ndarray  # int64 [m]
    means: np.ndarray  # float32 [m, d]
    renders: np.ndarray  # float32 [m, S, S, 3] in [0, 1]
    scores: np.ndarray  # float32 [m, classes]: logit change (see atlas.classes)
    top: np.ndarray  # int64 [m, k]: the top classes, highest first
    patch_rows: np.ndarray  # int64 [m, p]: dataset rows of the nearest patches
    patch_positions: np.ndarray  # int64 [m, p, 2]
    patches: np.ndarray  # uint8 [m, p, T, T, 3]: their receptive-field crops


@dataclasses.dataclass
class Atlas:
    """An atlas of one or more layers (what ``it.atlas`` returns)."""

    model: str
    config: AtlasConfig
    layers: list  # of LayerAtlas
    ids: list  # dataset image ids, by row
    class_names: list  # the model's label names, by output index
    seconds: dict = dataclasses.field(default_factory=dict)  # wall time per phase (not written)
    cpu_seconds: dict = dataclasses.field(default_factory=dict)  # CPU time of the process per phase (not written)

    def layer(self, name):
        """The :class:`LayerAtlas` of ``name``."""
        for found in self.layers:
            if found.layer == name:
                return found
        raise UserError(f"the atlas has no layer {name!r}; it has {', '.join(x.layer for x in self.layers)}")


def check_model(model, dataset, config):
    """The model- and data-dependent checks, before any work: layers known and spatial, enough positions
    for ``per_image``, enough vectors for one cell of ``min_count``."""
    height, width = model.image_shape[:2]
    for layer in config.layers:
        model.check_layer(layer, "ablate")  # its output is sampled, and the classes run the network on from it
        h = layer_field(model.graph_def, layer, model.input_name, height, 1).length
        w = layer_field(model.graph_def, layer, model.input_name, width, 2).length
        sample.check_per_image([layer], [(h, w)], config.per_image)
    grid.check_enough(len(dataset) * config.per_image, config.min_count)


def compute(model, dataset, config, checkpoint=None):
    """The atlas of ``config.layers`` over ``dataset`` (see the module docstring); writes nothing.

    Args:
        model: the model.
        dataset: the images.
        config: :class:`AtlasConfig`.
        checkpoint: a ``runner.Checkpoint`` (default: one in memory).

    Returns:
        :class:`Atlas`.
    """
    checkpoint = checkpoint or runner.Checkpoint()
    check_model(model, dataset, config)
    seconds = ({}, {})
    sampled = _timed(seconds, "sample", sample.sample_vectors, model, dataset, config.layers, config.per_image,
                     config.seed, config.batch_size, checkpoint)
    layers = [_layer(model, dataset, config, i, found, checkpoint, seconds) for i, found in enumerate(sampled)]
    return Atlas(model.name, config, layers, list(dataset.ids), list(model.label_names), *seconds)


def _timed(seconds, phase, function, *args):
    """``function(*args)``, adding its wall and CPU time to ``seconds[0][phase]`` and ``seconds[1][phase]``."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        return function(*args)
    finally:
        seconds[0][phase] = seconds[0].get(phase, 0.0) + time.perf_counter() - wall
        seconds[1][phase] = seconds[1].get(phase, 0.0) + time.process_time() - cpu


def _layer(model, dataset, config, i, found, checkpoint, seconds):
    layer = config.layers[i]
    saved = checkpoint.load(f"layout{i}")
    if saved is None:
        saved = {"layout": _timed(seconds, "layout", embed.umap_layout, found.vectors, config.seed)}
        checkpoint.save(f"layout{i}", **saved)
    layout = saved["layout"]
    cells = _timed(seconds, "grid", grid.average_cells, found.vectors, layout, config.grid, config.min_count)
    renders = _timed(seconds, "render", render.render_cells, model, layer, cells.means, config, i, checkpoint)
    saved = checkpoint.load(f"classes{i}")
    if saved is None:
        saved = {"scores": _timed(seconds, "classes", classes.class_scores, model, layer, cells.means,
                                  found.vectors.astype(np.float64).mean(axis=0), found.shape)}
        checkpoint.save(f"classes{i}", **saved)
    nearest = _timed(seconds, "patches", patches.nearest_vectors, found.vectors, found.rows, cells.means,
                     config.patches)
    crops = _timed(seconds, "patches", patches.crop_patches, model, dataset, layer, found.rows[nearest],
                   found.positions[nearest], PATCH_TILE)
    return LayerAtlas(layer, found.shape, found.vectors, found.rows, found.positions, layout, cells.cells,
                      cells.counts, cells.means, renders, saved["scores"],
                      classes.top_classes(model, saved["scores"], config.top_classes), found.rows[nearest],
                      found.positions[nearest], crops)


def summary(result):
    """The JSON summary of ``result`` (``atlas.json``, and the page's data)."""
    layers = []
    for found in result.layers:
        cells = []
        for j, (row, col) in enumerate(found.cells.tolist()):
            cells.append({
                "row": row, "col": col, "count": int(found.counts[j]),
                "top": [{"class": int(c), "name": result.class_names[c], "score": float(f"{found.scores[j, c]:.4g}")}
                        for c in found.top[j]],
                "patches": [{"id": result.ids[r], "y": int(p[0]), "x": int(p[1])}
                            for r, p in zip(found.patch_rows[j], found.patch_positions[j])],
            })
        layers.append({"layer": found.layer, "shape": list(found.shape), "n_vectors": int(len(found.vectors)),
                       "depth": int(found.vectors.shape[1]), "cells": cells})
    return {"model": result.model, "config": runner.config_dict(result.config), "layers": layers}


def write_npz(f, arrays):
    """``np.savez_compressed``'s format with a fixed date in the zip, so equal arrays give equal bytes."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asanyarray(array), allow_pickle=False)


def write(result, folder):
    """Write ``result`` into ``folder`` (a ``runner.Folder``; see the module docstring for the files)."""
    arrays = {f"{i}_{name}": getattr(found, name) for i, found in enumerate(result.layers) for name in ARRAYS}
    arrays.update({f"{i}_shape": np.asarray(found.shape, np.int64) for i, found in enumerate(result.layers)})
    with folder.open("atlas.npz", "wb") as f:
        write_npz(f, arrays)
    data = summary(result)
    folder.write_json("atlas.json", dict(data, ids=result.ids, class_names=result.class_names))
    sheet = canvas.side_by_side(
        [canvas.layer_canvas(x.renders, x.cells, x.counts, result.config.grid, result.config.by_density)
         for x in result.layers],
        [f"{result.model} {x.layer}: {len(x.vectors)} vectors, {len(x.cells)} cells" for x in result.layers])
    with folder.temporary("atlas.png") as tmp:
        sheet.save(tmp, format="PNG")
    page.write_page(folder, result, data)


def read(folder):
    """The :class:`Atlas` a finished ``folder`` holds (``seconds`` empty)."""
    data = folder.read_json("atlas.json")
    config = runner.config_from_dict(AtlasConfig, data["config"])
    with np.load(folder.file("atlas.npz"), allow_pickle=False) as f:
        layers = [LayerAtlas(entry["layer"], tuple(int(x) for x in f[f"{i}_shape"]),
                             **{name: f[f"{i}_{name}"] for name in ARRAYS})
                  for i, entry in enumerate(data["layers"])]
    return Atlas(data["model"], config, layers, data["ids"], data["class_names"])


STAGE = runner.Stage("atlas", compute, write, outputs=("atlas.npz", "atlas.json", "atlas.png", "atlas.html"),
                     read=read)
