"""Lucid feature visualizations of the channels of a layer: the objectives and the render itself.

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

Any other Lucid objective (composed with Lucid's arithmetic, a callable, or
``"layer:n"``): :func:`render_objective` runs the same parameterisation,
transforms and loop on it as given (``it.render(model, objective)``).

On disk: the ``visualizations`` stage (:mod:`inception_tools.renders`, on the study runner) writes
``<out>/visualizations/<layer>[-<objective>]/channel_<cccc>.png`` (four images side by side) and
``.npy`` (float32 [4, S, S, 3] in [0, 1]), plus ``settings.json``; a rerun renders only the channels
not on disk and refuses to mix settings in one folder. :func:`load_channel` reads one back.
"""

import dataclasses
import math
from typing import Optional

import numpy as np
import tensorflow as tf
from tensorflow.python.util import deprecation

from inception_tools.errors import UserError
from inception_tools.render_memory import check_render_memory
from inception_tools.layout import channel_file, visualization_dir
from inception_tools.lucid_compat import import_lucid
from inception_tools.render_engine import DEFAULT_ENGINE, ENGINES, check_engine, diversity as engine_diversity, optimize

IMAGES_PER_CHANNEL = 4
DIVERSITY_WEIGHT = 1e2
OBJECTIVES = ("diversity", "channel", "neuron", "negative")


@dataclasses.dataclass(frozen=True)
class RenderConfig:
    """How channels are rendered: the study's recipe with Lucid's defaults.

    Attributes:
        steps: Adam steps (Lucid's ``thresholds=(steps,)``; Lucid's default 512).
        size: image side in pixels (None: the model's input size).
        seed: bit-reproducible per seed and engine.
        objective: a recipe of :data:`OBJECTIVES`.
        diversity_weight: the weight of the diversity term (None: the model's, :func:`model_diversity_weight`).
        engine: one of :data:`inception_tools.render_engine.ENGINES`; None: :func:`render` uses
            :data:`~inception_tools.render_engine.DEFAULT_ENGINE` (the visualizations stage, the folder's).
        per_call: channels optimized together in one call (the visualizations stage, :mod:`inception_tools.renders`).
    """

    steps: int = 512
    size: Optional[int] = None
    seed: int = 0
    objective: str = "diversity"
    diversity_weight: Optional[float] = None
    engine: Optional[str] = None
    per_call: int = 1

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise UserError(f"unknown objective {self.objective!r}; choose one of {', '.join(OBJECTIVES)}")
        if self.engine is not None and self.engine not in ENGINES:
            raise UserError(f"unknown render engine {self.engine!r}; choose one of {', '.join(ENGINES)}")
        for name in ("steps", "per_call"):
            if not is_int(getattr(self, name)) or getattr(self, name) < 1:
                raise UserError(f"{name} must be an integer of at least 1, not {getattr(self, name)!r}")
        if self.size is not None and (not is_int(self.size) or self.size < 8):
            raise UserError(f"size must be at least 8 pixels, not {self.size!r}")
        if not is_int(self.seed) or not 0 <= self.seed < 2**32:
            raise UserError(f"seed must be an integer from 0 to 2**32-1, not {self.seed!r}")
        weight = self.diversity_weight
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))
                                   or not math.isfinite(weight)):
            raise UserError(f"diversity_weight must be a finite number, not {weight!r}")


def is_int(value):
    """An integer (Python's or NumPy's), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


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


def render(model, layer, channels, config=RenderConfig()):
    """Render ``channels`` in one optimization.

    Args:
        model: a loaded model.
        layer: the layer of the channels.
        channels: the channels, four batch rows each.
        config: a :class:`RenderConfig` (its ``per_call`` is not used here).

    Returns:
        float32 [len(channels), 4, S, S, 3] in [0, 1].
    """
    size = config.size or model.image_shape[0]
    engine = config.engine or DEFAULT_ENGINE
    channels = list(channels)
    check_render_memory(model, size, IMAGES_PER_CHANNEL * len(channels))
    with deprecation.silence():  # Lucid's TF1 calls (resize_bilinear, ...) would each warn once
        images = optimize(
            model.lucid,
            call_objective(config.objective, layer, channels, model_diversity_weight(model, config.diversity_weight),
                           engine),
            seeded_image_param(size, IMAGES_PER_CHANNEL * len(channels), call_seed(config.seed, channels[0])),
            config.steps,
            engine,
        )
    return images.reshape(len(channels), IMAGES_PER_CHANNEL, size, size, 3).astype(np.float32)


def lucid_objective(objective):
    """``objective`` as a Lucid objective: an ``Objective`` or callable as it is, ``"layer:n"`` as ``channel(layer, n)``.

    Args:
        objective: a ``lucid.optvis.objectives.Objective`` (composed with Lucid's arithmetic), a callable
            ``T -> loss tensor``, or Lucid's string shortcut ``"layer:n"``.

    Returns:
        What Lucid's ``objectives.as_objective`` makes of it.
    """
    import_lucid()
    from lucid.optvis import objectives

    if isinstance(objective, str) and not (objective.count(":") == 1 and objective.split(":")[1].strip().isdigit()):
        raise UserError(f"objective {objective!r} is neither a Lucid objective nor \"layer:channel\"; "
                        f"the recipes {', '.join(OBJECTIVES)} need a layer and a channel")
    if not (isinstance(objective, (str, objectives.Objective)) or callable(objective)):
        raise UserError(f"objective must be a Lucid objective, a callable or \"layer:channel\", not {objective!r}")
    return objectives.as_objective(objective)


def render_objective(model, objective, steps=512, size=None, seed=0, batch=IMAGES_PER_CHANNEL,
                     engine=DEFAULT_ENGINE):
    """Optimize ``batch`` images for any Lucid objective, with the study's parameterisation and transforms.

    The same loop as :func:`render` (Lucid's ``make_vis_T``: Fourier, decorrelated colour, standard
    transforms, Adam 0.05, ``steps + 1`` updates), on ``objective`` as given. Both engines run any
    objective: the fast engine changes how the network's gradients are computed, not the objective, so
    a Lucid ``objectives.diversity`` term keeps Lucid's own (slower) arithmetic there;
    :func:`inception_tools.fast_render.diversity` is the fast engine's equal one.

    Args:
        model: a loaded model (``Model``).
        objective: see :func:`lucid_objective`; layer names are Lucid's (``"mixed3a"``, ``"mixed3a_pre_relu"``).
        steps: Adam steps, as Lucid's ``thresholds=(steps,)``.
        size: image side in pixels (default: the model's input size).
        seed: sets the graph's seed and the spectrum's initial draw: bit-reproducible per seed and engine.
        batch: images optimized together (Lucid's ``batch`` dimension; diversity needs at least 2).
        engine: ``"fast"`` or ``"render_vis"`` (:mod:`inception_tools.render_engine`).

    Returns:
        float32 [batch, size, size, 3] in [0, 1].
    """
    objective = lucid_objective(objective)
    size = size or model.image_shape[0]
    if steps < 1 or batch < 1 or size < 8:
        raise UserError("steps and batch must be at least 1, size at least 8 pixels")
    check_engine(engine)
    check_render_memory(model, size, batch)
    try:
        with deprecation.silence():
            images = optimize(model.lucid, objective, seeded_image_param(size, batch, seed), steps, engine)
    except KeyError as error:  # Lucid's T(name) on a tensor the graph lacks
        if "does not exist" not in str(error):
            raise
        raise UserError(f"the objective names a tensor that {model.name} lacks: {error.args[0]}") from None
    return images.astype(np.float32)


def load_channel(out_dir, layer, channel, objective="diversity"):
    """The saved float32 [4, S, S, 3] images of ``channel``."""
    return np.load(channel_file(visualization_dir(out_dir, layer, objective), channel, ".npy"))
