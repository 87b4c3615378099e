"""Dataset examples: the images that drive each channel of a layer most and least, in one pass.

Every image goes through the model once; the ``<layer>_pre_relu`` activations
of the whole batch are scored for every channel at once:

- ``mode="center"`` (the study's choice): the activation at the centre position
  ``(h // 2, w // 2)`` (Lucid's ``neuron`` objective's position); the ``k``
  largest are the top examples, the ``k`` smallest the bottom ones, shown as
  whole images;
- ``mode="max"``: the top examples have the largest spatial maximum, the bottom
  ones the smallest spatial minimum; each is shown as the receptive field of the
  position where that extreme occurs (see :mod:`inception_tools.receptive_field`),
  shifted to lie inside the image, or the whole image when the field is larger.

A dense layer's unit has one position, so both modes rank its value and show
whole images.

A streaming top-k per channel keeps the ``k`` best values seen so far; each
batch is merged into it for all channels together with one vectorised sort
(ties go to the lower image index), so the result is the same as sorting every
channel's values over the whole dataset. The pass saves a checkpoint every few
batches (in the :class:`~inception_tools.runner.Checkpoint` it is given) and
resumes from it.

Results: ``<out>/examples/<layer>[-max]/channel_<cccc>_top.png`` and
``_bottom.png`` (``k`` images side by side, strongest first), ``examples.json``
(``{"<c>": {"top": [ids], "top_values": [...], "top_positions": [[y, x], ...],
"top_rows": [dataset indices], "bottom": ..., ...}}``) and ``settings.json``.
The folder is the study runner's (:data:`STAGE`, :func:`inception_tools.runner.run`):
``settings.json`` holds the config, the layer and the model and dataset
identity, the lock keeps a second process out, ``.partial/`` holds the pass's
checkpoint. The strips are drawn from ``examples.json`` afterwards, for the
channels asked and not yet on disk.
"""

import dataclasses
import functools
import json
import os

import numpy as np

from inception_tools import progress, runner
from inception_tools.errors import UserError
from inception_tools.imagefiles import save_strip
from inception_tools.layout import EXAMPLES_JSON, SETTINGS_JSON, channel_file, examples_dir
from inception_tools.receptive_field import layer_field
from inception_tools.surgery import Network

MODES = ("center", "max")
CHECKPOINT_EVERY = 20  # batches


@dataclasses.dataclass(frozen=True)
class ExamplesConfig:
    """How the examples of a layer are found (:func:`dataset_examples`, ``it.examples``).

    Attributes:
        k: examples per channel and side.
        mode: ``center`` (the study's: the centre position, whole images) or ``max`` (the spatial extreme,
            its receptive field).
        batch_size: images per ``session.run``.
        pixel_scaling: ``once`` or ``study`` (feed images as the original study did; :mod:`inception_tools.surgery`).
    """

    k: int = 8
    mode: str = "center"
    batch_size: int = 32
    pixel_scaling: str = "once"

    def __post_init__(self):
        if self.mode not in MODES:
            raise UserError(f"unknown examples mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if self.k < 1 or self.batch_size < 1:
            raise UserError("k and batch size must be at least 1")


@dataclasses.dataclass
class Examples:
    """The ``k`` strongest and weakest dataset examples of some channels of a layer (what ``it.examples`` returns).

    Row ``i`` of every array is channel ``channels[i]`` (:meth:`index`); column ``j`` its ``j``-th strongest
    example: the top examples in descending order of activation, the bottom ones in ascending order.
    """

    layer: str
    mode: str  # "center" or "max" (see the module docstring)
    channels: np.ndarray  # int64 [n]
    top_ids: np.ndarray  # str [n, k]: the dataset ids of the top examples
    top_values: np.ndarray  # float32 [n, k]: their scores (pre-ReLU activation)
    top_positions: np.ndarray  # int64 [n, k, 2]: the (y, x) position scored
    top_rows: np.ndarray  # int64 [n, k]: their indices in the dataset (``dataset.images(r, r + 1)``)
    bottom_ids: np.ndarray
    bottom_values: np.ndarray
    bottom_positions: np.ndarray
    bottom_rows: np.ndarray

    @classmethod
    def from_pass(cls, layer, mode, kept, ids, channels):
        """The examples of ``channels`` from :func:`single_pass`'s ``kept = (top, bottom)`` and the dataset ids."""
        channels = np.asarray(list(channels), np.int64)
        fields = {}
        for name, side in zip(("top", "bottom"), kept):
            rows = side.rows[channels]
            fields[f"{name}_ids"] = np.array([[ids[r] for r in line] for line in rows.tolist()])
            fields[f"{name}_values"] = side.values[channels]
            fields[f"{name}_positions"] = side.positions[channels]
            fields[f"{name}_rows"] = rows
        return cls(layer, mode, channels, **fields)

    @classmethod
    def from_table(cls, layer, mode, table):
        """The examples of an ``examples.json`` table (:meth:`table`'s form)."""
        entries = list(table.values())
        fields = {}
        for name in ("top", "bottom"):
            fields[f"{name}_ids"] = np.array([e[name] for e in entries])
            fields[f"{name}_values"] = np.array([e[f"{name}_values"] for e in entries], np.float32)
            fields[f"{name}_positions"] = np.array([e[f"{name}_positions"] for e in entries], np.int64)
            fields[f"{name}_rows"] = np.array([e[f"{name}_rows"] for e in entries], np.int64)
        return cls(layer, mode, np.array([int(c) for c in table], np.int64), **fields)

    def __len__(self):
        return len(self.channels)

    def select(self, channels):
        """The same examples for ``channels`` only, in that order."""
        rows = [self.index(c) for c in channels]
        fields = {f.name: getattr(self, f.name)[rows] for f in dataclasses.fields(self)
                  if f.name not in ("layer", "mode")}
        return dataclasses.replace(self, **fields)

    def index(self, channel):
        """The row of ``channel`` in the arrays."""
        found = np.flatnonzero(self.channels == channel)
        if not len(found):
            raise UserError(f"channel {channel} is not among the examples' channels")
        return int(found[0])

    def table(self):
        """The ``examples.json`` content: ``{"<c>": {"top": [ids], "top_values", "top_positions", "top_rows",
        and the same for "bottom"}}``."""
        table = {}
        for i, c in enumerate(self.channels.tolist()):
            entry = {}
            for name in ("top", "bottom"):
                entry[name] = getattr(self, f"{name}_ids")[i].tolist()
                entry[f"{name}_values"] = [float(v) for v in getattr(self, f"{name}_values")[i]]
                entry[f"{name}_positions"] = getattr(self, f"{name}_positions")[i].tolist()
                entry[f"{name}_rows"] = getattr(self, f"{name}_rows")[i].tolist()
            table[str(c)] = entry
        return table


class LayerReader:
    """``<layer>_pre_relu`` activations [n, h, w, C] of [0, 1] images, one ``session.run`` per call.

    A dense layer's [n, C] comes as [n, 1, 1, C]: one position, the whole image.
    """

    def __init__(self, model, layer, pixel_scaling="once"):
        self.net = Network(model, layer, pixel_scaling)
        self.t_acts = self.net.T(f"{layer}_pre_relu")
        self.dense = self.t_acts.shape.rank == 2

    def __call__(self, images):
        acts = self.net.run(self.t_acts, images)
        return acts[:, None, None, :] if self.dense else acts

    def close(self):
        self.net.close()


class StreamingTopK:
    """The ``k`` largest values of each of ``channels`` columns seen so far, with image index and position."""

    def __init__(self, k, channels):
        self.k = k
        self.values = np.zeros((channels, 0), np.float32)
        self.rows = np.zeros((channels, 0), np.int64)
        self.positions = np.zeros((channels, 0, 2), np.int64)

    def update(self, values, rows, positions):
        """Merge a batch: ``values`` [n, C], image indices ``rows`` [n], ``positions`` [n, C, 2]."""
        n, channels = values.shape
        values = np.concatenate([self.values, values.T], axis=1)
        rows = np.concatenate([self.rows, np.broadcast_to(rows, (channels, n))], axis=1)
        positions = np.concatenate([self.positions, positions.transpose(1, 0, 2)], axis=1)
        keep = np.lexsort((rows, -values), axis=-1)[:, : self.k]
        self.values = np.take_along_axis(values, keep, axis=1)
        self.rows = np.take_along_axis(rows, keep, axis=1)
        self.positions = np.take_along_axis(positions, keep[..., None], axis=1)

    def state(self, prefix):
        return {f"{prefix}_values": self.values, f"{prefix}_rows": self.rows, f"{prefix}_positions": self.positions}

    def load(self, state, prefix):
        self.values, self.rows = state[f"{prefix}_values"], state[f"{prefix}_rows"]
        self.positions = state[f"{prefix}_positions"]


def batch_scores(acts, mode):
    """Scores of a batch of activations [n, h, w, C] for every channel.

    Returns ``(top, bottom)``, each ``(values [n, C], positions [n, C, 2])``:
    larger top values and smaller bottom values are stronger examples.
    """
    n, h, w, channels = acts.shape
    if mode == "center":
        values = acts[:, h // 2, w // 2, :]
        positions = np.broadcast_to(np.array([h // 2, w // 2]), (n, channels, 2))
        return (values, positions), (values, positions)
    flat = acts.reshape(n, h * w, channels)
    extremes = []
    for arg in (np.argmax, np.argmin):
        where = arg(flat, axis=1)
        values = np.take_along_axis(flat, where[:, None, :], axis=1)[:, 0, :]
        extremes.append((values, np.stack(np.divmod(where, w), axis=-1)))
    return tuple(extremes)


def single_pass(model, layer, dataset, k=8, mode="center", batch_size=32, checkpoint=None, pixel_scaling="once"):
    """Stream ``dataset`` through the model once; return the (top, bottom) :class:`StreamingTopK`.

    ``checkpoint``: a :class:`~inception_tools.runner.Checkpoint` the pass saves itself in every
    :data:`CHECKPOINT_EVERY` batches and resumes from (default: none).
    """
    depth = model.depth(layer)
    top, bottom = StreamingTopK(k, depth), StreamingTopK(k, depth)
    start = _resume(checkpoint, top, bottom)
    reader = LayerReader(model, layer, pixel_scaling)
    try:
        with progress.bar(total=len(dataset), initial=start, desc=f"examples {layer}", unit="img") as bar:
            for batch_number, first in enumerate(range(start, len(dataset), batch_size), 1):
                images = dataset.images(first, first + batch_size)
                (top_values, top_positions), (low_values, low_positions) = batch_scores(reader(images), mode)
                rows = np.arange(first, first + len(images))
                top.update(top_values, rows, top_positions)
                bottom.update(-low_values, rows, low_positions)
                bar.update(len(images))
                if checkpoint is not None and batch_number % CHECKPOINT_EVERY == 0:
                    checkpoint.save("examples", next=first + len(images), **top.state("top"), **bottom.state("bottom"))
    finally:
        reader.close()
    bottom.values = -bottom.values
    return top, bottom


def _resume(checkpoint, top, bottom):
    state = None if checkpoint is None else checkpoint.load("examples")
    if state is None:
        return 0
    top.load(state, "top")
    bottom.load(state, "bottom")
    return int(state["next"])


def compute(model, layer, dataset, config, checkpoint=None):
    """The top and bottom examples of every channel of ``layer`` over ``dataset`` (nothing written).

    Args:
        model, layer, dataset: the layer and the images ranked.
        config: an :class:`ExamplesConfig`.
        checkpoint: where the pass saves its progress (:class:`inception_tools.runner.Checkpoint`).

    Returns:
        :class:`Examples` of every channel.
    """
    kept = single_pass(model, layer, dataset, config.k, config.mode, config.batch_size, checkpoint,
                       config.pixel_scaling)
    return Examples.from_pass(layer, config.mode, kept, dataset.ids, range(model.depth(layer)))


def write(result, folder):
    """``examples.json`` (:meth:`Examples.table`) into ``folder`` (a :class:`runner.Folder`)."""
    with folder.open(EXAMPLES_JSON) as f:
        json.dump(result.table(), f)


def read(folder):
    """The :class:`Examples` of a finished folder."""
    settings = folder.read_json(SETTINGS_JSON)
    return Examples.from_table(settings["inputs"]["layer"], settings["config"]["mode"],
                               folder.read_json(EXAMPLES_JSON))


STAGE = runner.Stage("examples", compute, write, outputs=(EXAMPLES_JSON,), read=read)


def is_dense(model, layer):
    """True for a layer Lucid tags ``dense`` (no spatial positions: examples show whole images)."""
    base = layer[: -len("_pre_relu")] if layer.endswith("_pre_relu") else layer
    return any(spec.name == base and "dense" in spec.tags for spec in model.lucid.layers)


def crop_box(field_y, field_x, y, x, height, width):
    """``(top, left, bottom, right)`` of unit (y, x)'s receptive field, shifted inside the image."""
    box = []
    for field, index, extent in ((field_y, y, height), (field_x, x, width)):
        lo, hi = field.window(index)
        size = min(hi - lo, extent)
        lo = min(max(lo, 0), extent - size)
        box.append((lo, lo + size))
    (top, bottom), (left, right) = box
    return top, left, bottom, right


def example_tiles(load, rows, positions, fields=None):
    """Images ``rows`` (``load(row)`` -> [H, W, 3]); receptive-field crops at ``positions`` if ``fields``.

    Every crop of a layer has the same size (see :func:`crop_box`), so the tiles sit side by side.
    """
    tiles = []
    for row, (y, x) in zip(rows, positions):
        image = load(int(row))
        if fields is not None:
            top, left, bottom, right = crop_box(*fields, y, x, *image.shape[:2])
            image = image[top:bottom, left:right]
        tiles.append(image)
    return tiles


def dataset_examples(model, layer, dataset, out_dir, config=ExamplesConfig(), channels=None):
    """Find and save the top and bottom ``k`` dataset examples of every channel of ``layer``.

    Args:
        model, layer, dataset: the layer and the images ranked.
        out_dir: the study folder (``examples/<layer>[-max]/``).
        config: an :class:`ExamplesConfig` (``k``, ``mode``, ``batch_size``, ``pixel_scaling``).
        channels: the channels whose PNG strips are written (default all); the pass over ``dataset``
            covers every channel of the layer.

    Returns:
        The :class:`Examples` of every channel of ``layer`` (those of ``examples.json``).
    """
    k, mode = config.k, config.mode
    if k > len(dataset):
        raise UserError(f"cannot pick {k} examples from {len(dataset)} images")
    model.check_pre_relu(layer)
    channels = model.check_channels(layer, range(model.depth(layer)) if channels is None else channels)
    folder = examples_dir(out_dir, layer, mode)
    identity = runner.identity(model, dataset, layer=layer)
    runner.adopt(STAGE, folder, legacy_settings(model, layer, dataset, config),
                 runner.settings(STAGE, config, identity))
    found = runner.run(STAGE, config, folder, inputs_identity=identity, model=model, layer=layer, dataset=dataset)
    table = found.table()
    fields = None
    if mode == "max" and not is_dense(model, layer):
        h, w = model.image_shape[:2]
        fields = tuple(layer_field(model.graph_def, layer, model.input_name, n, axis)
                       for n, axis in ((h, 1), (w, 2)))
    write_strips(dataset, table, folder, channels, fields)
    return found


def legacy_settings(model, layer, dataset, config):
    """What a folder's ``settings.json`` held before the stage ran on the runner (:func:`runner.adopt`)."""
    return dict(model=model.name, layer=layer, mode=config.mode, k=config.k, dataset=getattr(dataset, "source", ""),
                n_images=len(dataset), resize=getattr(dataset, "resize", None), pixel_scaling=config.pixel_scaling)


def write_strips(dataset, table, folder, channels, fields=None):
    """Write the top and bottom PNG strips of ``channels`` that are not on disk yet."""
    load = functools.lru_cache(maxsize=64)(lambda row: dataset.images(row, row + 1)[0])
    for c in progress.iterate(channels, desc="example strips", unit="channel"):
        for name in ("top", "bottom"):
            path = channel_file(folder, c, f"_{name}.png")
            if not os.path.isfile(path):
                entry = table[str(c)]
                tiles = example_tiles(load, entry[f"{name}_rows"], entry[f"{name}_positions"], fields)
                save_strip(tiles, path)
