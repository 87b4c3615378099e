"""The ``visualizations`` stage on the study runner: Lucid renders of channels of a layer.

:func:`compute` renders the channels a :class:`RendersConfig` names with the study's recipe
(:func:`inception_tools.visualization.render`, which owns the rendering) and returns them as
:class:`Renders`, writing nothing. ``per_call`` channels share one optimization; the calls are formed
over the config's channels in the order given (:meth:`RendersConfig.calls`), and each call's seed comes
from the seed and its first channel, so the same channels in the same order give the same pixels.
Each finished call is saved in the :class:`~inception_tools.runner.Checkpoint` it is given, so a
killed run, run again, renders only the calls it had not finished. ``distribute`` spreads the calls
(:func:`inception_tools.scale.render.ray_renderer`: one Ray task per call).

On disk (:data:`STAGE`, through :func:`inception_tools.runner.run`), the folder
``<study>/visualizations/<layer>[-<objective>]/`` holds ``channel_<cccc>.npy`` (float32 [4, S, S, 3] in
[0, 1]) and ``channel_<cccc>.png`` (the four images side by side) per channel, and ``settings.json``:
the stage, the config less its channels (the stage *collects* channels: later runs with other channels
add to the same folder) and the model's name. :func:`todo` keeps only the calls with a channel missing
on disk; the runner then returns every channel asked for, read back (:func:`read`).

Before the runner, :func:`prepare` checks the config against the model, fills in what the config
leaves to the model or the folder (the image size, the diversity weight, the engine: None continues
with the folder's engine, ``render_vis`` for a folder older than the record, else
:data:`~inception_tools.render_engine.DEFAULT_ENGINE`) and adopts a folder written before this stage
was on the runner: its old ``settings.json`` is rewritten in the runner's form when it records exactly
what this run would have recorded, and refused in one line otherwise.
"""

import dataclasses
import hashlib
import os

import numpy as np

from inception_tools import progress, runner, visualization
from inception_tools.errors import UserError
from inception_tools.imagefiles import save_strip
from inception_tools.layout import channel_stem, settings_json
from inception_tools.manifest import read_manifest
from inception_tools.render_engine import DEFAULT_ENGINE
from inception_tools.render_memory import check_render_memory
from inception_tools.visualization import IMAGES_PER_CHANNEL, RenderConfig, is_int, model_diversity_weight

SUFFIXES = (".npy", ".png")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RendersConfig(RenderConfig):
    """Which channels are rendered (``layer``, ``channels``, by keyword), and how: the fields of
    :class:`~inception_tools.visualization.RenderConfig`, the study's recipe with Lucid's defaults
    (its ``engine`` None: see :func:`prepare`).

    Attributes:
        layer: the layer of the channels (its ``<layer>_pre_relu`` is what the recipes maximize).
        channels: the channels, in the order that forms the calls of ``per_call`` channels.
    """

    layer: str
    channels: tuple

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.layer, str) or not self.layer:
            raise UserError(f"layer must be a layer name, not {self.layer!r}")
        try:
            channels = tuple(self.channels)
        except TypeError:
            raise UserError(f"channels must be a list of channel numbers, not {self.channels!r}") from None
        if not channels:
            raise UserError("channels selects no channel")
        for c in channels:
            if not is_int(c) or c < 0:
                raise UserError(f"channels must be channel numbers (integers from 0), not {c!r}")
        object.__setattr__(self, "channels", tuple(int(c) for c in channels))

    def calls(self) -> list:
        """The channels of each optimization: ``per_call`` at a time, in the order of ``channels``."""
        c, n = self.channels, self.per_call
        return [c[i:i + n] for i in range(0, len(c), n)]


@dataclasses.dataclass
class Renders:
    """Lucid renders of some channels of a layer (what the stage returns).

    Row ``i`` of ``images`` is channel ``channels[i]`` (:meth:`index`): its four images.
    """

    layer: str
    objective: str
    channels: np.ndarray  # int64 [n]
    images: np.ndarray  # float32 [n, 4, S, S, 3] in [0, 1]

    def __len__(self):
        return len(self.channels)

    def index(self, channel):
        """The row of ``channel``."""
        found = np.flatnonzero(self.channels == channel)
        if not len(found):
            raise UserError(f"channel {channel} is not among the rendered channels")
        return int(found[0])


def check(model, config):
    """Refuse what ``model`` cannot render (a layer without ``_pre_relu``, a channel out of range, a call
    too large for memory), before any work or any file."""
    model.check_pre_relu(config.layer)
    model.check_channels(config.layer, config.channels)
    size = config.size or model.image_shape[0]
    check_render_memory(model, size, IMAGES_PER_CHANNEL * min(config.per_call, len(config.channels)))


def resolved(model, config, engine=DEFAULT_ENGINE):
    """``config`` with its size and diversity weight from ``model`` where None, its engine ``engine`` where None."""
    return dataclasses.replace(config, size=config.size or model.image_shape[0],
                               diversity_weight=model_diversity_weight(model, config.diversity_weight),
                               engine=config.engine or engine)


def call_name(call):
    """The checkpoint group of a call: its first channel and a digest of all of them."""
    digest = hashlib.sha256(",".join(map(str, call)).encode()).hexdigest()[:16]
    return f"call_{call[0]:04d}_{len(call)}_{digest}"


def render_in_turn(model, calls, config):
    """Yield ``(call, images)`` for each call in turn, rendered here (the default of ``distribute``)."""
    for call in calls:
        yield call, visualization.render(model, config.layer, call, config)


def compute(model, config, checkpoint=None, distribute=None):
    """Render every channel of ``config`` (nothing written).

    Args:
        model: a loaded model.
        config: a :class:`RendersConfig` (its size, diversity weight and engine None: the model's and
            :data:`~inception_tools.render_engine.DEFAULT_ENGINE`).
        checkpoint: each finished call is saved there and not rendered again
            (:class:`inception_tools.runner.Checkpoint`; default: one in memory).
        distribute: ``distribute(calls, config)`` yields ``(call, images)`` of each call, in any order
            (default :func:`render_in_turn`; :func:`inception_tools.scale.render.ray_renderer` spreads them).

    Returns:
        :class:`Renders` of ``config.channels``, in their order.
    """
    check(model, config)
    config = resolved(model, config)
    checkpoint = checkpoint or runner.Checkpoint()
    calls = config.calls()
    done = {}
    for call in calls:
        saved = checkpoint.load(call_name(call))
        if saved is not None:
            done[call] = saved["images"]
    todo = [call for call in calls if call not in done]
    rendered = distribute(todo, config) if distribute is not None else render_in_turn(model, todo, config)
    with progress.bar(total=len(config.channels), initial=len(config.channels) - sum(map(len, todo)),
                      desc=f"render {config.layer}", unit="channel") as bar:
        for call, images in rendered:
            call = tuple(call)
            checkpoint.save(call_name(call), images=images)
            done[call] = images
            bar.update(len(call))
    images = np.concatenate([done[call] for call in calls]).astype(np.float32, copy=False)
    return Renders(config.layer, config.objective, np.asarray(config.channels, np.int64), images)


def channel_files(channel):
    """The file names of ``channel`` in a visualizations folder: the ``.npy`` and the ``.png``."""
    return tuple(channel_stem(channel) + suffix for suffix in SUFFIXES)


def outputs(config):
    """Every file of ``config``'s channels."""
    return tuple(name for c in dict.fromkeys(config.channels) for name in channel_files(c))


def write(result, folder):
    """Each channel's ``.npy`` and ``.png`` into ``folder`` (a :class:`runner.Folder`), each atomically."""
    for channel, images in zip(result.channels.tolist(), result.images):
        npy, png = channel_files(channel)
        folder.write_npy(npy, images)
        save_strip(images, folder.file(png))  # atomic itself


def read(folder, config):
    """The :class:`Renders` of ``config``'s channels from ``folder``."""
    images = np.stack([np.load(folder.file(channel_files(c)[0]), allow_pickle=False) for c in config.channels])
    return Renders(config.layer, config.objective, np.asarray(config.channels, np.int64), images)


def todo(config, folder):
    """``config`` narrowed to its calls with a file missing in ``folder`` (whole calls, so they render as
    they would have in one run), or None when every file is there."""
    def missing(call):
        return not all(os.path.isfile(folder.file(name)) for c in call for name in channel_files(c))

    channels = tuple(c for call in config.calls() if missing(call) for c in call)
    return dataclasses.replace(config, channels=channels) if channels else None


STAGE = runner.Stage("visualizations", compute, write, outputs=outputs, read=read, collects=("channels",),
                     todo=todo)


def prepare(model, config, folder):
    """``config`` checked against ``model`` and resolved for ``folder``, ready for :func:`runner.run`.

    Fills in the size and diversity weight from the model and the engine from the folder
    (:func:`folder_engine`), and adopts a folder made before the stage was on the runner
    (:func:`adopt_legacy`). Nothing is written unless a legacy manifest is adopted.

    Args:
        model: a loaded model.
        config: a :class:`RendersConfig`.
        folder: the visualizations folder (``layout.visualization_dir``).

    Returns:
        The resolved :class:`RendersConfig`.

    Raises:
        UserError: the model cannot render ``config``, or the folder's old settings differ.
    """
    check(model, config)
    config = resolved(model, config, folder_engine(folder) or DEFAULT_ENGINE)
    adopt_legacy(model, config, folder)
    return config


def folder_engine(folder):
    """The engine of the renders already in ``folder`` (``render_vis`` for a folder older than the record),
    or None without a manifest."""
    stored = read_manifest(settings_json(folder))
    if stored is None:
        return None
    if "stage" in stored:
        return (stored.get("config") or {}).get("engine")
    return stored.get("engine", "render_vis")


def legacy_settings(model, config, stored):
    """What a folder's ``settings.json`` held for ``config`` before the stage was on the runner."""
    settings = dict(model=model.name, layer=config.layer, objective=config.objective, steps=config.steps,
                    size=config.size, seed=config.seed, per_call=config.per_call,
                    diversity_weight=config.diversity_weight, engine=config.engine)
    if config.engine == "render_vis" and "engine" not in stored:
        del settings["engine"]  # a folder from before the engine was recorded holds render_vis's images
    return settings


def adopt_legacy(model, config, folder):
    """Take over a folder made before the stage was on the runner when its old settings are what
    ``config`` (resolved) would have recorded (:func:`inception_tools.runner.adopt`)."""
    stored = read_manifest(settings_json(folder))
    if stored is not None and "stage" not in stored:
        runner.adopt(STAGE, folder, legacy_settings(model, config, stored),
                     runner.settings(STAGE, config, runner.identity(model)))