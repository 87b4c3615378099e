"""Lucid feature visualizations of the channels of a layer, cached on disk.

Method (the study's, with Lucid's defaults): for channel ``c`` of layer ``L``,
Lucid (``lucid.optvis.render``) optimizes a batch of four images,
parameterised by ``param.image(size, batch=4)`` (Fourier spectrum,
decorrelated colour, sigmoid), seen through Lucid's standard transforms
(pad, jitter, scale, rotate, jitter), with Adam (learning rate 0.05) for
``steps`` steps (``thresholds=(steps,)``; Lucid's default is 512), maximizing

- ``"diversity"`` (the study): ``channel(L_pre_relu, c) - 1e2 * diversity(L)``
  (the weight is an option: on a small model such as the embedded one the
  diversity term can outweigh the channel for three of the four images);
- ``"channel"``: ``channel(L_pre_relu, c)``, the mean over positions;
- ``"neuron"``: ``neuron(L_pre_relu, c)``, the centre position only;
- ``"negative"``: ``-channel(L_pre_relu, c)``.

``L_pre_relu`` of a mixed layer is the concat of its branches' pre-ReLU
tensors that Lucid's InceptionV1 adds at import.

Several channels can share one optimization (``per_call``): the batch
holds four images per channel and channel ``i``'s objective is built by
Lucid's objective functions on images ``4i..4i+3`` only, so the channels
do not interact except by sharing the random transform of each step.

Reproducible: Lucid's ``use_fixed_seed`` leaves the NumPy draw that
initialises the spectrum unseeded (lucid issue #278), so instead the
``param_f`` given to Lucid, which ``make_vis_T`` calls first in the
fresh graph, sets the graph-level seed and draws the spectrum from a seeded
NumPy state. Every later random op (the transforms) then gets a fixed seed.
The seed of a call is derived from ``seed`` and its first channel.

The loop itself is :mod:`inception_tools.render_engine`: by default
Lucid's graph with three parts computed more cheaply (``engine="fast"``,
:mod:`inception_tools.fast_render`), or Lucid's ``render_vis`` itself
(``engine="render_vis"``, the study's earlier renders); same recipe, other
rounding, so their pixels differ. A folder keeps the engine it was started with.

Results: ``<out>/visualizations/<layer>[-<objective>]/channel_<cccc>.png``
(four images side by side) and ``.npy`` (float32 [4, S, S, 3] in [0, 1]),
plus ``settings.json``; a rerun skips channels already on disk and refuses
to mix settings in one folder.
"""

import os

import numpy as np
import tensorflow as tf
from tensorflow.python.util import deprecation

from inception_tools import progress
from inception_tools.atomic import atomic_path
from inception_tools.errors import UserError
from inception_tools.imagefiles import save_strip
from inception_tools.render_memory import check_render_memory
from inception_tools.layout import channel_file, settings_json, visualization_dir
from inception_tools.lucid_compat import import_lucid
from inception_tools.manifest import check_settings, read_manifest
from inception_tools.render_engine import DEFAULT_ENGINE, check_engine, diversity as engine_diversity, optimize

IMAGES_PER_CHANNEL = 4
DIVERSITY_WEIGHT = 1e2
OBJECTIVES = ("diversity", "channel", "neuron", "negative")


def model_diversity_weight(model, weight=None):
    """``weight``, or the model's default: 1e2 (the study's) for InceptionV1.

    Lucid's diversity term is scale-free (cosine similarity of Gram
    matrices) while the channel term grows with the activations: InceptionV1's
    mixed5a channels reach several hundred, the embedded model's about 35, so
    its default weight is 1 (at 1e2 three of the four images stay below the
    dataset's best).
    """
    return getattr(model, "diversity_weight", DIVERSITY_WEIGHT) if weight is None else weight


def channel_objective(kind, layer, channel, images, diversity_weight=DIVERSITY_WEIGHT, engine=DEFAULT_ENGINE):
    """Lucid objective ``kind`` for ``channel`` of ``layer``, reading only batch rows ``images`` (None: all).

    The diversity term is ``engine``'s (:func:`inception_tools.render_engine.diversity`).
    """
    import_lucid()
    from lucid.optvis import objectives

    pre_relu = f"{layer}_pre_relu"
    if kind == "diversity":
        objective = objectives.channel(pre_relu, channel) - diversity_weight * engine_diversity(engine)(layer)
    elif kind == "channel":
        objective = objectives.channel(pre_relu, channel)
    elif kind == "neuron":
        objective = objectives.neuron(pre_relu, channel)
    elif kind == "negative":
        objective = -objectives.channel(pre_relu, channel)
    else:
        raise UserError(f"unknown objective {kind!r}; choose one of {', '.join(OBJECTIVES)}")
    if images is None:
        return objective
    return objectives.Objective(lambda T: objective(_rows(T, images)), objective.name, objective.description)


def _rows(T, rows):
    """Lucid's tensor lookup ``T`` restricted to the batch rows ``rows`` (a slice)."""
    return lambda name: T(name)[rows]


def call_objective(kind, layer, channels, diversity_weight=DIVERSITY_WEIGHT, engine=DEFAULT_ENGINE):
    """The sum of each channel's objective over its own four batch rows (the fast engine: alone, all rows)."""
    n = IMAGES_PER_CHANNEL
    if len(channels) == 1 and engine == "fast":
        return channel_objective(kind, layer, channels[0], None, diversity_weight, engine)
    parts = [channel_objective(kind, layer, c, slice(n * i, n * (i + 1)), diversity_weight, engine)
             for i, c in enumerate(channels)]
    return sum(parts[1:], parts[0])


def seeded_image_param(size, batch, seed):
    """A ``param_f`` for Lucid: Lucid's default image, with every random draw seeded."""
    import_lucid()
    from lucid.optvis import param

    def param_f():
        tf.compat.v1.set_random_seed(seed)
        saved = np.random.get_state()
        np.random.seed(seed)
        try:
            return param.image(size, batch=batch)
        finally:
            np.random.set_state(saved)

    return param_f


def call_seed(seed, first_channel):
    """A 31-bit seed for the call that renders ``first_channel`` first."""
    return int(np.random.SeedSequence([seed, first_channel]).generate_state(1)[0] >> 1)


def render(model, layer, channels, steps=512, size=None, seed=0, objective="diversity",
           diversity_weight=None, engine=DEFAULT_ENGINE):
    """Render ``channels`` in one optimization: float32 [len(channels), 4, S, S, 3] in [0, 1].

    ``engine`` is one of :data:`inception_tools.render_engine.ENGINES`.
    """
    size = size or model.image_shape[0]
    channels = list(channels)
    check_render_memory(model, size, IMAGES_PER_CHANNEL * len(channels))
    with deprecation.silence():  # Lucid's TF1 calls (resize_bilinear, ...) would each warn once
        images = optimize(
            model.lucid,
            call_objective(objective, layer, channels, model_diversity_weight(model, diversity_weight), engine),
            seeded_image_param(size, IMAGES_PER_CHANNEL * len(channels), call_seed(seed, channels[0])),
            steps,
            engine,
        )
    return images.reshape(len(channels), IMAGES_PER_CHANNEL, size, size, 3).astype(np.float32)


def render_in_turn(model, layer, calls, steps=512, size=None, seed=0, objective="diversity", diversity_weight=None,
                   engine=DEFAULT_ENGINE):
    """Yield ``(call, images)`` for each call of ``calls`` in turn, rendered here by :func:`render`."""
    for call in calls:
        yield call, render(model, layer, call, steps, size, seed, objective, diversity_weight, engine)


def render_channels(model, layer, channels, out_dir, steps=512, size=None, seed=0, objective="diversity",
                    per_call=1, diversity_weight=None, render_calls=None, engine=None):
    """Render and save every channel of ``channels`` not yet on disk; return the PNG paths.

    ``per_call`` channels share one optimization; calls are formed from
    ``channels`` in the order given, so a rerun of the same command forms the
    same calls and the images of a channel depend only on the settings.
    ``render_calls(model, layer, calls, **settings)`` yields ``(call, images)`` in any order
    (default :func:`render_in_turn`; :func:`inception_tools.scale.render.ray_renderer` spreads them).
    ``engine`` None: the folder's engine if it has images (``render_vis`` if it predates the record), else
    :data:`~inception_tools.render_engine.DEFAULT_ENGINE`.
    """
    if objective not in OBJECTIVES:
        raise UserError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
    if steps < 1 or per_call < 1 or (size is not None and size < 8):
        raise UserError("steps and per-call must be at least 1, size at least 8 pixels")
    model.check_pre_relu(layer)
    channels = model.check_channels(layer, channels)
    size = size or model.image_shape[0]
    check_render_memory(model, size, IMAGES_PER_CHANNEL * min(per_call, len(channels)))  # before any file
    folder = visualization_dir(out_dir, layer, objective)
    stored = read_manifest(settings_json(folder))
    if engine is None:
        engine = DEFAULT_ENGINE if stored is None else stored.get("engine", "render_vis")
    check_engine(engine)
    settings = dict(model=model.name, layer=layer, objective=objective, steps=steps, size=size, seed=seed,
                    per_call=per_call, diversity_weight=model_diversity_weight(model, diversity_weight), engine=engine)
    if engine == "render_vis" and stored is not None and "engine" not in stored:
        del settings["engine"]  # a folder from before the engine was recorded holds render_vis's images
    check_settings(settings_json(folder), settings)
    calls = [channels[i:i + per_call] for i in range(0, len(channels), per_call)]
    todo = [call for call in calls if not all(os.path.isfile(channel_file(folder, c, ".png")) for c in call)]
    with progress.bar(total=len(channels), initial=len(channels) - sum(map(len, todo)), desc=f"render {layer}",
                      unit="channel") as bar:
        options = dict(steps=steps, size=size, seed=seed, objective=objective, diversity_weight=diversity_weight,
                       engine=engine)
        for call, call_images in (render_calls or render_in_turn)(model, layer, todo, **options):
            for c, images in zip(call, call_images):
                with atomic_path(channel_file(folder, c, ".npy")) as tmp:
                    with open(tmp, "wb") as f:
                        np.save(f, images)
                save_strip(images, channel_file(folder, c, ".png"))
                bar.update(1)
    return [channel_file(folder, c, ".png") for c in channels]


def load_channel(out_dir, layer, channel, objective="diversity"):
    """The saved float32 [4, S, S, 3] images of ``channel``."""
    return np.load(channel_file(visualization_dir(out_dir, layer, objective), channel, ".npy"))
