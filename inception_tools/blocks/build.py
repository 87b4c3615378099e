"""One image's building blocks: every layer's dictionary, attributions and groups.

:func:`analyse_layer` computes the numbers of one layer (no rendering);
:func:`analyse` does every layer and :func:`render_blocks` renders the
thumbnails the page shows through the shared render cache; :mod:`.stage`
runs them and writes the page (:mod:`.page`) through the study runner.
"""

import dataclasses
import logging
import os
import time

import numpy as np

from inception_tools import progress
from inception_tools.blocks.attribution import attribute
from inception_tools.blocks.config import RESIZES
from inception_tools.blocks.dictionary import semantic_dictionary
from inception_tools.blocks.groups import neuron_groups
from inception_tools.blocks.page import TABLE_ROWS
from inception_tools.blocks.render_cache import Unit, ensure_renders
from inception_tools.data import resize as resizing
from inception_tools.data.dataset import is_placeholder
from inception_tools.data.folder import read_image
from inception_tools.errors import UserError
from inception_tools.surgery import Network

log = logging.getLogger(__name__)

def load_image(path, model, resize="center-crop"):
    """float32 [1, H, W, 3] in [0, 1] at the model's input size.

    ``resize``: ``center-crop`` and ``native`` as in :mod:`inception_tools.data.resize`;
    ``squash`` resizes the whole image to H x W (bilinear, aspect ratio not kept).
    """
    if resize not in RESIZES:
        raise UserError(f"unknown resize {resize!r}; choose one of {', '.join(RESIZES)}")
    return resizing.finish(read_image(path, model.image_shape, resize)[None], model.image_shape)


def real_classes(model):
    return [i for i, label_id in enumerate(model.label_ids) if not is_placeholder(label_id)]


def top_classes(logits, model, n):
    """The ``n`` real classes with the largest logits, largest first."""
    real = np.array(real_classes(model))
    return [int(c) for c in real[np.argsort(-logits[real], kind="stable")[:n]]]


def parse_classes(spec, model):
    """``"208,tiger cat"``: output indices, label ids or label names -> output indices."""
    by_name = {}
    for i in real_classes(model):
        by_name.setdefault(model.label_names[i].lower(), i)
        by_name.setdefault(model.label_ids[i].lower(), i)
    classes = []
    for part in (p.strip() for p in spec.split(",")):
        if part.isdigit() and int(part) in real_classes(model):
            classes.append(int(part))
        elif part.lower() in by_name:
            classes.append(by_name[part.lower()])
        else:
            raise UserError(f"unknown class {part!r} for {model.name}: give an output index, label id or label name")
    return classes


@dataclasses.dataclass
class LayerBlocks:
    """The numbers of one layer on one image."""

    layer: str
    acts: np.ndarray  # [1, H, W, C]
    dictionary: object  # SemanticDictionary
    attributions: list  # ClassAttribution per class
    groups: object  # NeuronGroups
    group_attributions: np.ndarray  # [classes, groups]
    baseline: str  # "zero" or "mean of <n> images of <source>"
    seconds: float


def analyse_layer(net, image, classes, top_n=4, n_groups=6, means=None, baseline="zero", batch_size=64):
    """:class:`LayerBlocks` of ``net.layer`` on ``image`` [1, H, W, 3] for output indices ``classes``.

    Args:
        net: a :class:`~inception_tools.surgery.Network` of the model at the layer (the caller closes it).
        image: float32 [1, H, W, 3] in [0, 1].
        classes: output indices to attribute.
        top_n, n_groups: channels per position in the semantic dictionary; NMF groups.
        means: float [C], the ablation baseline, named by ``baseline``; zero when None.
        batch_size: ablated variants per session run.

    Returns:
        :class:`LayerBlocks`.
    """
    start = time.monotonic()
    layer = net.layer
    acts = net.layer_activations(image)
    if acts.ndim != 4:
        raise UserError(f"{layer} has no spatial positions; give a convolutional layer such as a mixed one")
    values = np.zeros(acts.shape[-1]) if means is None else np.asarray(means, np.float64)
    _, height, width, depth = acts.shape
    with progress.bar(total=depth + height * width, desc=f"ablate {layer}", unit="variant") as bar:
        attributions = attribute(net, acts, classes, values, batch_size, progress=bar.update)
    groups = neuron_groups(acts, n_groups)
    group_attr = np.array([groups.attribution(a.gradient) for a in attributions])
    return LayerBlocks(layer, acts, semantic_dictionary(acts, top_n), attributions, groups, group_attr,
                       baseline, time.monotonic() - start)


def shown_channels(blocks):
    """Channels the page shows for a layer: the dictionary's, and each class's table
    (the ``TABLE_ROWS`` most positive and most negative channels by ablation)."""
    shown = set(blocks.dictionary.unique_channels())
    for a in blocks.attributions:
        order = np.argsort(-a.ablation_channel, kind="stable")
        shown.update(int(c) for c in order[:TABLE_ROWS])
        shown.update(int(c) for c in order[::-1][:TABLE_ROWS])
    return sorted(shown)


def layer_units(blocks):
    """Every thumbnail the page shows for a layer: its channels, then its groups' directions."""
    return [Unit.channel_of(c) for c in shown_channels(blocks)] + [Unit.direction(v) for v in blocks.groups.directions]


def dataset_means(model, layers, data, limit=None, batch_size=32):
    """``{layer: channel means}`` over ``data`` and its description, or ``({}, "zero")``."""
    if data is None:
        return {}, "zero"
    from inception_tools.data import load_dataset
    from inception_tools.importance.outcomes import channel_means

    dataset = load_dataset(data, model, limit=limit)
    means = {}
    for layer in layers:
        net = Network(model, layer)
        try:
            means[layer] = channel_means(net, dataset, batch_size)
        finally:
            net.close()
    return means, f"channel means over {len(dataset)} images of {os.path.basename(os.path.normpath(str(data)))}"


@dataclasses.dataclass
class Blocks:
    """One image's building blocks: the image and every layer's numbers (no renders)."""

    image: np.ndarray  # float32 [1, H, W, 3] in [0, 1]
    classes: list  # output indices attributed to
    layers: list  # LayerBlocks, in the order asked


def check(model, config):
    """Refuse what ``model`` does not have: a layer without ``_pre_relu``, more classes than it has."""
    for layer in config.layers:
        model.check_pre_relu(layer)
    n_real = len(real_classes(model))
    if config.classes is None and not 1 <= config.n_classes <= n_real:
        raise UserError(f"n_classes must be from 1 to {n_real}: {model.name} has {n_real} classes, "
                        f"not {config.n_classes}")


def analyse(model, image_path, config):
    """Every layer's :class:`LayerBlocks` of one image, in memory (nothing rendered or written).

    Args:
        model: a loaded model.
        image_path: the photograph.
        config: a :class:`~inception_tools.blocks.config.BlocksConfig`.

    Returns:
        :class:`Blocks`.
    """
    check(model, config)
    image = load_image(image_path, model, config.resize)
    means, baseline = dataset_means(model, config.layers, config.data, config.limit)
    classes = None if config.classes is None else list(config.classes)
    analysed = []
    for layer in config.layers:
        net = Network(model, layer)
        try:
            net.require_no_bypass("the Building Blocks attribution")
            if classes is None:
                classes = top_classes(net.unablated_logits(image)[0], model, config.n_classes)
            blocks = analyse_layer(net, image, classes, config.top_n, config.n_groups, means.get(layer), baseline)
        finally:
            net.close()
        log.info("%s analysed in %.1f s", layer, blocks.seconds)
        analysed.append(blocks)
    return Blocks(image, classes, analysed)


def render_blocks(model, blocks, config, render_root=None, started=None):
    """Render the thumbnails of analysed :class:`Blocks` through the render cache (:mod:`.render_cache`).

    Args:
        model: the model analysed.
        blocks: its :class:`Blocks`.
        config: the :class:`~inception_tools.blocks.config.BlocksConfig` (``render``, ``per_call``).
        render_root: the render cache (default: :func:`~inception_tools.blocks.render_cache.cache_root`).
        started: ``time.monotonic()`` when the work began (for ``total_seconds``).

    Returns:
        ``(renders, summary)``: ``{layer: (units, {unit name: cached png path})}`` and the timings and
        render counts ``blocks.json`` holds.
    """
    started = time.monotonic() if started is None else started
    renders, rendered, render_seconds = {}, 0, 0.0
    for layer_blocks in blocks.layers:
        t = time.monotonic()
        units = layer_units(layer_blocks)
        paths, count = ensure_renders(model, layer_blocks.layer, units, config.render, config.per_call, render_root)
        renders[layer_blocks.layer] = (units, paths)
        render_seconds += time.monotonic() - t
        rendered += count
    summary = {
        "renders_shown": sum(len(paths) for _, paths in renders.values()), "renders_made": rendered,
        "render_seconds": round(render_seconds, 1),
        "analysis_seconds": round(sum(b.seconds for b in blocks.layers), 1),
        "total_seconds": round(time.monotonic() - started, 1),
        "render_settings": dataclasses.asdict(config.render),
    }
    return renders, summary
