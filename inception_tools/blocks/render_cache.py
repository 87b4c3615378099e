"""A shared on-disk cache of single feature-visualization thumbnails.

A *unit* is what one thumbnail shows: ``Unit.channel(c)`` (Lucid's
``channel(<layer>_pre_relu, c)``, the ``"channel"`` objective of
:mod:`inception_tools.visualization`) or ``Unit.direction(v)`` (Lucid's
``direction(<layer>, v)``, as the Building Blocks notebooks render NMF groups;
``v`` is stored unit-normalised, so its scale does not matter).

Files: ``<root>/<model>-<graph digest>/<layer>/<objective>-s<size>-n<steps>-seed<seed>/<unit>.png``
with root ``$INCEPTION_TOOLS_RENDER_CACHE``, else ``<model cache>/renders``
(``~/.cache/inception_tools/renders``). The graph digest keeps two files
with the same model name (the real InceptionV1 and the random stand-in) apart.
Any page or gallery that asks for the same (model, layer, unit, settings)
reuses the file.

A cached file is used only when it decodes completely as a PNG of the
settings' size (:func:`cached_png_ok`); otherwise it is rendered again.

Rendering: missing units are rendered ``per_call`` at a time, one image each,
in one ``render_vis`` call whose batch row ``i`` serves unit ``i`` only
(Lucid's default image parameterisation and transforms, Adam 0.05,
``steps`` steps, seeded as in :mod:`inception_tools.visualization`). Units
of one call share each step's random transform, so a thumbnail is one valid
render at its settings, not bit-identical across different call groupings.
"""

import dataclasses
import hashlib
import os

import numpy as np
from PIL import Image
from tensorflow.python.util import deprecation

from inception_tools import progress
from inception_tools import visualization
from inception_tools.errors import UserError
from inception_tools.imagefiles import save_strip
from inception_tools.lucid_compat import import_lucid
from inception_tools.models.zoo import cache_dir


@dataclasses.dataclass(frozen=True)
class RenderSettings:
    """How thumbnails are rendered (the cheap page settings by default)."""

    size: int = 96
    steps: int = 128
    seed: int = 0

    def tag(self, objective):
        return f"{objective}-s{self.size}-n{self.steps}-seed{self.seed}"

    def check(self):
        if self.size < 8 or self.steps < 1:
            raise UserError("render size must be at least 8 pixels and steps at least 1")


@dataclasses.dataclass(frozen=True)
class Unit:
    """One thumbnail's objective: a channel, or a direction in channel space."""

    objective: str  # "channel" or "direction"
    name: str  # file stem, unique within (model, layer, objective)
    channel: int = -1
    vector: tuple = ()

    @classmethod
    def channel_of(cls, channel):
        return cls("channel", f"channel_{int(channel):04d}", channel=int(channel))

    @classmethod
    def direction(cls, vector):
        vector = np.asarray(vector, np.float64)
        norm = float(np.linalg.norm(vector))
        if not np.isfinite(norm) or norm == 0:
            raise UserError("cannot render a zero direction")
        unit = np.round(vector / norm, 6).astype(np.float32)
        digest = hashlib.sha256(unit.tobytes()).hexdigest()[:16]
        return cls("direction", f"direction_{digest}", vector=tuple(float(x) for x in unit))

    def seed_key(self):
        return self.channel if self.objective == "channel" else int(self.name.split("_")[1][:7], 16)

    def lucid_objective(self, layer, row):
        """The Lucid objective of this unit on batch row ``row`` only."""
        if self.objective == "channel":
            return visualization.channel_objective("channel", layer, self.channel, slice(row, row + 1))
        from lucid.optvis import objectives

        return objectives.direction(layer, np.asarray(self.vector, np.float32), batch=row)


def cache_root():
    return os.environ.get("INCEPTION_TOOLS_RENDER_CACHE") or os.path.join(cache_dir(), "renders")


def model_key(model):
    """``<name>-<first 12 hex digits of the GraphDef's sha256>``, memoised on the model."""
    key = getattr(model, "_render_cache_key", None)
    if key is None:
        digest = hashlib.sha256(model.graph_def.SerializeToString(deterministic=True)).hexdigest()[:12]
        key = f"{model.name}-{digest}"
        model._render_cache_key = key
    return key


def unit_path(model, layer, unit, settings, root=None):
    return os.path.join(root or cache_root(), model_key(model), layer, settings.tag(unit.objective), unit.name + ".png")


def cached_png_ok(path, size):
    """True when ``path`` is a complete PNG of ``size`` x ``size`` pixels: a truncated, empty or
    foreign file in the cache (a killed writer of another tool, a full disk) is rendered again,
    never copied into a page."""
    if not os.path.isfile(path):
        return False
    try:
        with Image.open(path) as image:
            image.load()
            return image.format == "PNG" and image.size == (size, size)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False


def render_units(model, layer, units, settings):
    """Render ``units`` in one ``render_vis`` call: float32 [len(units), S, S, 3] in [0, 1]."""
    import_lucid()
    from lucid.optvis import render as lucid_render

    objective = sum((u.lucid_objective(layer, i) for i, u in enumerate(units[1:], start=1)),
                    units[0].lucid_objective(layer, 0))
    seed = visualization.call_seed(settings.seed, units[0].seed_key())
    with deprecation.silence():
        images = lucid_render.render_vis(
            model.lucid, objective,
            param_f=visualization.seeded_image_param(settings.size, len(units), seed),
            thresholds=(settings.steps,), verbose=False,
        )[-1]
    return np.asarray(images, np.float32)


def ensure_renders(model, layer, units, settings=RenderSettings(), per_call=8, root=None):
    """Path of each unit's thumbnail, rendering the ones not yet cached.

    Args:
        model: a loaded :class:`~inception_tools.models.Model`.
        layer: the layer the units live in (``<layer>_pre_relu`` must exist for channels).
        units: :class:`Unit` list; duplicates are rendered once.
        settings: size, steps and seed of the renders.
        per_call: units optimised together in one ``render_vis`` call.
        root: cache folder (default :func:`cache_root`).

    Returns:
        ``(paths, rendered)``: ``{unit.name: png path}`` for every unit, and how
        many were rendered now (the rest came from the cache).
    """
    settings.check()
    model.check_pre_relu(layer)
    unique = list({u.name: u for u in units}.values())
    paths = {u.name: unit_path(model, layer, u, settings, root) for u in unique}
    todo = [u for u in unique if not cached_png_ok(paths[u.name], settings.size)]
    by_objective = {}
    for u in todo:
        by_objective.setdefault(u.objective, []).append(u)
    calls = [group[i:i + per_call] for group in by_objective.values() for i in range(0, len(group), per_call)]
    with progress.bar(total=len(todo), desc=f"render {layer}", unit="thumb", disable=not todo) as bar:
        for call in calls:
            for unit, image in zip(call, render_units(model, layer, call, settings)):
                save_strip(image[None], paths[unit.name])
                bar.update(1)
    return paths, len(todo)
