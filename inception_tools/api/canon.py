"""The rest of the Lucid-era canon: circuits, tuning curves, activation atlases, attribution and its sanity
checks, network dissection. Each returns its stage's typed result; ``out`` runs it through the study runner."""

from __future__ import annotations

import os
from typing import Optional, Sequence

from inception_tools.errors import UserError
from inception_tools.api._support import _check_dataset, _check_model


def circuit(model, layer: str, channel: int, *, inputs_from: Optional[str] = None, top: int = 8,
            render_size: int = 128, render_steps: int = 256, seed: int = 0, out: Optional[str] = None):
    """A channel's circuit: its strongest inputs and outputs through expanded weights.

    Args:
        model: a loaded model.
        layer, channel: the channel.
        inputs_from: the earlier layer of the inputs (default: the layer below ``layer``).
        top: inputs (and outputs) of each sign to keep.
        render_size, render_steps, seed: Lucid renders of the channels kept, through the shared render
            cache (``render_steps=0``: none).
        out: a folder to write the page and arrays into (None: nothing written but the render cache).

    Returns:
        :class:`inception_tools.circuit.stage.Circuit`.
    """
    from inception_tools import runner
    from inception_tools.circuit.stage import STAGE, CircuitConfig, compute

    _check_model(model)
    config = CircuitConfig(layer, channel, inputs_from, top, render_size, render_steps, seed)
    if out is None:
        return compute(model, config)
    return runner.run(STAGE, config, out, model=model)


def tuning(model, layer: str, channels: Sequence[int] = (), *, stimulus: str = "curve", dataset=None,
           search: bool = False, replicates: int = 8, jitter: float = 4.0, seed: int = 0, out: Optional[str] = None,
           **options):
    """Tuning curves of ``channels`` of ``layer`` to a family of seeded parametric stimuli.

    Args:
        model: a loaded model.
        layer, channels: what to report (every channel of the layer is measured).
        stimulus: ``curve``, ``line``, ``grating`` or ``color``.
        dataset: natural images for each channel's 99th percentile (None: the relative peak is NaN).
        search: rank every channel by circular variance and count the selective ones.
        replicates, jitter, seed: jittered copies of each stimulus (the first centred) and their seed.
        out: a folder to write the files into (None: nothing written).
        **options: the other fields of :class:`inception_tools.tuning.stage.TuningConfig` (``top``,
            ``bootstrap``, ``positions``, ``max_circular_variance``, ``min_relative_peak``, ``batch_size``).

    Returns:
        :class:`inception_tools.tuning.stage.Tuning`.
    """
    from inception_tools import runner
    from inception_tools.tuning.stage import STAGE, TuningConfig, compute

    _check_model(model)
    if dataset is not None:
        _check_dataset(dataset)
    config = TuningConfig(layer, tuple(int(c) for c in channels), stimulus, search, replicates=replicates,
                          jitter=jitter, seed=seed, **options)
    if out is None:
        return compute(model, dataset, config)
    return runner.run(STAGE, config, out, model=model, dataset=dataset)


def atlas(model, dataset, layer, *, grid: int = 20, per_image: int = 1, seed: int = 0, min_count: int = 5,
          out: Optional[str] = None, **settings):
    """An activation atlas (Carter et al., 2019) of ``layer`` (one name, ``"a,b"`` or a sequence) over ``dataset``.

    Args:
        grid: cells per side of the grid over the UMAP layout.
        per_image: random positions sampled per image.
        seed: seed of the positions, the layout and the renders.
        min_count: render only cells averaging at least this many vectors.
        out: a folder to write (``atlas.png``, ``atlas.html``, ...; resumed, or read back when finished);
            None: nothing is written.
        **settings: the other fields of :class:`inception_tools.atlas.stage.AtlasConfig` (``size``, ``steps``,
            ``render_batch``, ``cossim_pow``, ``patches``, ``top_classes``, ``by_density``, ``engine``, ``batch_size``).

    Returns:
        :class:`inception_tools.atlas.stage.Atlas`: per layer (``result.layer(name)``) the sampled vectors, layout,
        cells, counts, averages, renders, class scores, top classes and nearest patches.
    """
    from inception_tools import runner
    from inception_tools.atlas.stage import STAGE, AtlasConfig, check_model, compute

    import dataclasses

    unknown = sorted(set(settings) - {f.name for f in dataclasses.fields(AtlasConfig)})
    if unknown:
        raise UserError(f"unknown atlas settings: {', '.join(unknown)}")
    layers = tuple(layer.split(",")) if isinstance(layer, str) else tuple(layer)
    config = AtlasConfig(layers=layers, grid=grid, per_image=per_image, seed=seed, min_count=min_count, **settings)
    check_model(_check_model(model), _check_dataset(dataset), config)
    if out is None:
        return compute(model, dataset, config)
    return runner.run(STAGE, config, out, model=model, dataset=dataset)


def attribute(model, images, methods: Optional[Sequence[str]] = None, target: str = "top",
              layer: Optional[str] = None, out: Optional[str] = None, resize: str = "center-crop", **settings):
    """Saliency maps of every chosen method for every image, at the model's input resolution.

    Args:
        model: a loaded model.
        images: a dataset (:func:`load_dataset`) or the path of one image file.
        methods: names among gradient, grad-x-input, smoothgrad, integrated-gradients, guided-backprop, gradcam,
            guided-gradcam (default: all seven with a ``layer``, the five pixel methods without).
        target: ``"top"`` (each image's highest logit) or a class index, label id or name.
        layer: Grad-CAM's layer (needed by gradcam and guided-gradcam).
        out: a folder for the maps (.npy), overlays and pages; None writes nothing.
        resize: how an image file reaches the input size: ``center-crop`` or ``squash``.
        **settings: ``ig_steps``, ``smoothgrad_samples``, ``smoothgrad_noise``, ``seed``, ``batch_size``
            (see :class:`inception_tools.attribution.stage.AttributeConfig`).

    Returns:
        :class:`inception_tools.attribution.stage.Attribution` (``maps`` [methods, N, H, W], ``map(method, i)``).
    """
    from inception_tools import runner
    from inception_tools.attribution import methods as registry
    from inception_tools.attribution import stage
    from inception_tools.attribution.images import image_dataset

    if methods is None:
        methods = [m for m in registry.METHODS if layer is not None or not registry.needs_layer([m])]
    config = stage.AttributeConfig(methods=tuple(methods), target=str(target), layer=layer, **settings)
    stage.check(model, config)
    dataset = image_dataset(os.fspath(images), model, resize) if isinstance(images, (str, os.PathLike)) else images
    if out is None:
        return stage.compute(model, dataset, config)
    return runner.run(stage.STAGE, config, out, model=model, dataset=dataset)


def sanity(model, dataset, methods: Optional[Sequence[str]] = None, layer: Optional[str] = None, depth: int = 0,
           retrain_epochs: int = 0, out: Optional[str] = None, **settings):
    """Adebayo et al.'s sanity checks: cascading weight randomization (and, embedded model, label randomization).

    Args:
        model: a loaded model.
        dataset: the images (:func:`load_dataset`).
        methods: as in :func:`attribute`.
        layer: Grad-CAM's layer.
        depth: blocks the cascade randomizes from the logits down (0: all).
        retrain_epochs: train the embedded architecture this long on permuted labels and compare (0: skip).
        out: a folder for the figure, curves, tables and report; None writes nothing.
        **settings: ``target``, ``ig_steps``, ``smoothgrad_samples``, ``smoothgrad_noise``, ``seed``,
            ``batch_size``, ``figure_image``, ``pass_below`` (see :class:`inception_tools.sanity.stage.SanityConfig`).

    Returns:
        :class:`inception_tools.sanity.stage.Sanity` (``similarity``, ``summary``, ``passes(method)``).
    """
    from inception_tools import runner
    from inception_tools.attribution import methods as registry
    from inception_tools.sanity import stage

    if methods is None:
        methods = [m for m in registry.METHODS if layer is not None or not registry.needs_layer([m])]
    config = stage.SanityConfig(methods=tuple(methods), layer=layer, depth=depth, retrain_epochs=retrain_epochs,
                                **settings)
    stage.check(model, dataset, config)
    if out is None:
        return stage.compute(model, dataset, config)
    return runner.run(stage.STAGE, config, out, model=model, dataset=dataset)


def dissect(model, dataset, layer: str, concepts: str = "colors", out: Optional[str] = None, **settings):
    """Network dissection of ``layer``: each channel's best concept, its IoU, the detectors.

    Args:
        model: a loaded model.
        dataset: the photos whose pixels give the colour concepts (``concepts="colors"``); None with a
            Broden-layout folder, which brings its own images.
        layer: a convolutional layer.
        concepts: ``"colors"`` (Broden's 11 colour names, computed per pixel) or a Broden-layout folder.
        out: folder to write (settings, resumable checkpoint, CSV, JSON, page, figure); None writes nothing.
        **settings: the other fields of :class:`inception_tools.dissect.stage.DissectConfig`: ``quantile``
            (0.005), ``resolution`` (112), ``iou_threshold`` (0.04), ``compose`` (formula length, 0 = none),
            ``beam`` (5), ``compose_units`` (32), ``examples`` (6), ``batch_size`` (32).

    Returns:
        :class:`inception_tools.dissect.stage.Dissection` (``best_concept``, ``best_iou``, ``detectors``,
        ``by_category()``, ``iou``, ``thresholds``, ``formulas`` ...).
    """
    from inception_tools import runner
    from inception_tools.dissect import check_layer, concepts_of
    from inception_tools.dissect.stage import STAGE, DissectConfig, compute

    config = DissectConfig(layer=layer, concepts=str(concepts), **settings)
    check_layer(model, layer)
    source = concepts_of(config.concepts, model, dataset)
    if out is None:
        return compute(model, source, config)
    return runner.run(STAGE, config, out, inputs_identity=runner.identity(model, concepts=source.identity()),
                      reads=source.files, model=model, concepts=source)
