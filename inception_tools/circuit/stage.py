"""The circuit stage: one channel's strongest inputs and outputs through expanded weights.

``compute`` reads the frozen graph's weight constants
(:mod:`inception_tools.circuit.expand`): the expanded weights from
``inputs_from`` (default the layer below) to ``layer`` (the whole layer pair,
kept as the matrix of summed kernels, and channel ``channel``'s kernels), and
from ``channel`` to the layer above; it checks channel ``channel``'s kernels
against TensorFlow's Jacobian of the linearized graph
(:mod:`inception_tools.circuit.jacobian`), ranks inputs and outputs by summed
kernel (:mod:`inception_tools.circuit.links`) and renders the channels shown
(Lucid ``channel`` objective through the shared render cache,
:mod:`inception_tools.blocks.render_cache`).

Files (``write``): ``circuit.json`` (settings, layers, rankings with sums and
norms, the Jacobian check, costs), ``kernels.npy`` (float32 [kh, kw, inputs]:
each input channel's kernel to ``channel``), ``out_kernels.npy`` ([kh, kw,
next-layer channels]), ``inputs.png`` and ``outputs.png`` (renders above
kernels, for documents), ``matrix.npy`` (float32 [inputs, layer channels], summed
kernels) and ``matrix.png``, ``index.html`` with ``renders/`` and ``kernels/``.
"""

import dataclasses
import os
import time
from typing import Optional

import numpy as np

from inception_tools import runner
from inception_tools.blocks.render_cache import RenderSettings, Unit, ensure_renders
from inception_tools.circuit import expand, figures, jacobian, links, page
from inception_tools.errors import UserError
from inception_tools.imagefiles import open_rgb


@dataclasses.dataclass(frozen=True)
class CircuitConfig:
    """What a circuit shows.

    Attributes:
        layer: the layer of the channel.
        channel: the channel.
        inputs_from: the earlier layer whose channels are the inputs (None: the layer below).
        top: how many inputs (and outputs) of each sign to show.
        render_size, render_steps, seed: the Lucid renders of the channels shown (steps 0: none).
    """

    layer: str
    channel: int
    inputs_from: Optional[str] = None
    top: int = 8
    render_size: int = 128
    render_steps: int = 256
    seed: int = 0

    def __post_init__(self):
        if self.channel < 0:
            raise UserError(f"channel must be at least 0, not {self.channel}")
        if self.top < 1:
            raise UserError(f"top must be at least 1, not {self.top}")
        if self.render_steps < 0 or self.render_size < 8:
            raise UserError("render_size must be at least 8 pixels and render_steps at least 0")
        if self.seed < 0:
            raise UserError(f"seed must be at least 0, not {self.seed}")


@dataclasses.dataclass
class Circuit:
    """A channel's circuit (see the module docstring for the arrays)."""

    model: str
    layer: str
    channel: int
    inputs_from: str
    next_layer: Optional[str]
    kernels: np.ndarray
    out_kernels: np.ndarray
    matrix: np.ndarray
    stride: int
    anchor: int
    top_inputs: dict
    top_outputs: dict
    jacobian_error: float
    renders: dict
    seconds: dict

    def summary(self):
        """The JSON part of the result (everything but the arrays and renders)."""
        def ranked(kernels, top):
            return {sign: [{"channel": int(c), "sum": float(kernels[:, :, c].sum()),
                            "norm": float(np.linalg.norm(kernels[:, :, c]))} for c in chans]
                    for sign, chans in top.items()}

        return {"model": self.model, "layer": self.layer, "channel": self.channel, "inputs_from": self.inputs_from,
                "next_layer": self.next_layer, "stride": self.stride, "anchor": self.anchor,
                "kernel_size": int(self.kernels.shape[0]), "ranking": "summed kernel (sign = excitatory/inhibitory)",
                "linearization": expand.LINEARIZATION, "jacobian_max_relative_error": self.jacobian_error,
                "top_inputs": ranked(self.kernels, self.top_inputs),
                "top_outputs": ranked(self.out_kernels, self.top_outputs) if self.next_layer else None,
                "seconds": self.seconds}


def check(model, config):
    """Model-dependent checks before any work; returns (inputs_from, next layer or None)."""
    model.check_channels(config.layer, [config.channel])
    source = config.inputs_from or links.layer_below(model, config.layer)
    model.depth(source)
    nodes = {n.name: n for n in model.graph_def.node}
    expand.require_path(nodes, source, config.layer)
    following = links.layer_above(model, config.layer)
    try:
        expand.require_path(nodes, config.layer, following or "")
    except UserError:  # no layer above, or one without a spatial kernel (a classifier): no outputs to show
        following = None
    return source, following


def _expand(model, config, source, following, checkpoint):
    saved = checkpoint.load("expanded")
    if saved is not None:
        return saved
    args = (model.input_name, model.image_shape)
    started = time.time()
    whole = expand.expanded_weights(model.graph_def, source, config.layer, *args)
    one_hot = np.eye(whole.weights.shape[3])[config.channel]
    error = jacobian.jacobian_error(model.graph_def, source, config.layer, *args, whole, one_hot)
    out = np.zeros((0, 0, 0))
    if following is not None:
        out = expand.expanded_weights(model.graph_def, config.layer, following, *args,
                                      channels=[config.channel]).weights[:, :, 0]
    saved = dict(kernels=whole.weights[:, :, :, config.channel], out_kernels=out,
                 matrix=whole.weights.sum(axis=(0, 1)), stride=whole.stride, anchor=whole.anchor,
                 error=error, following=following or "", seconds=time.time() - started)
    checkpoint.save("expanded", **saved)
    return saved


def _renders(model, config, shown):
    """``{"<layer>/<channel>": image}`` for every (layer, channels) in ``shown``, through the render cache."""
    if not config.render_steps:
        return {}
    settings = RenderSettings(config.render_size, config.render_steps, config.seed)
    images = {}
    for layer, channels in shown.items():
        units = [Unit.channel_of(c) for c in channels]
        paths, _ = ensure_renders(model, layer, units, settings)
        for c, unit in zip(channels, units):
            images[f"{layer}/{int(c)}"] = np.asarray(open_rgb(paths[unit.name]), np.uint8)
    return images


def compute(model, config, checkpoint=None):
    """The circuit of ``config.channel`` in ``config.layer`` (writes nothing but the shared render cache).

    Raises:
        UserError: unknown layer, channel out of range, a layer pair that is not connected.
    """
    checkpoint = checkpoint or runner.Checkpoint()
    source, following = check(model, config)
    found = _expand(model, config, source, following, checkpoint)
    following = str(found["following"]) or None
    kernels, out_kernels = found["kernels"], found["out_kernels"]
    top_inputs = links.strongest(kernels, config.top)
    top_outputs = links.strongest(out_kernels, config.top) if following else {"positive": [], "negative": []}
    shown = {source: sorted({int(c) for cs in top_inputs.values() for c in cs}), config.layer: [config.channel]}
    if following:
        shown[following] = sorted({int(c) for cs in top_outputs.values() for c in cs})
    started = time.time()
    renders = _renders(model, config, shown)
    seconds = {"expand_and_check": round(float(found["seconds"]), 2), "renders": round(time.time() - started, 2)}
    return Circuit(model.name, config.layer, config.channel, source, following, kernels.astype(np.float32),
                   out_kernels.astype(np.float32), found["matrix"].astype(np.float32), int(found["stride"]),
                   int(found["anchor"]), top_inputs, top_outputs, float(found["error"]), renders, seconds)


def write(result, folder):
    """``circuit.json``, the arrays, ``matrix.png`` and the page (see the module docstring)."""
    folder.write_npy("kernels.npy", result.kernels)
    folder.write_npy("out_kernels.npy", result.out_kernels)
    folder.write_npy("matrix.npy", result.matrix)
    with folder.temporary("matrix.png") as tmp:
        figures.matrix_figure(result.matrix, result.inputs_from, result.layer).savefig(tmp, format="png",
                                                                                        bbox_inches="tight")
    with folder.temporary("inputs.png") as tmp:
        figures.overview_figure(result, "inputs").savefig(tmp, format="png", bbox_inches="tight")
    if result.next_layer:
        with folder.temporary("outputs.png") as tmp:
            figures.overview_figure(result, "outputs").savefig(tmp, format="png", bbox_inches="tight")
    page.write_page(result, folder)
    folder.write_json("circuit.json", result.summary())


def read(folder):
    """The :class:`Circuit` in a finished folder."""
    meta = folder.read_json("circuit.json")
    arrays = {name: np.load(folder.file(f"{name}.npy")) for name in ("kernels", "out_kernels", "matrix")}
    tops = [{sign: np.array([r["channel"] for r in rows], np.int64) for sign, rows in (meta[key] or {}).items()}
            for key in ("top_inputs", "top_outputs")]
    renders = {}
    for name in os.listdir(folder.file("renders")) if os.path.isdir(folder.file("renders")) else ():
        layer, channel = page.render_key(name)
        renders[f"{layer}/{channel}"] = np.asarray(open_rgb(folder.file(f"renders/{name}")), np.uint8)
    return Circuit(meta["model"], meta["layer"], meta["channel"], meta["inputs_from"], meta["next_layer"],
                   arrays["kernels"], arrays["out_kernels"], arrays["matrix"], meta["stride"], meta["anchor"],
                   tops[0], tops[1] or {"positive": [], "negative": []}, meta["jacobian_max_relative_error"],
                   renders, meta["seconds"])


STAGE = runner.Stage("circuit", compute, write,
                     outputs=("kernels.npy", "out_kernels.npy", "matrix.npy", "matrix.png", "inputs.png", "index.html",
                              "circuit.json"), read=read)
