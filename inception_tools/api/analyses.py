"""The analyses around the study: neuron basis vs principal components (Dey et al.), class-conditional
statistics (Teague), one image's building blocks (Olah et al.)."""

from __future__ import annotations

from typing import Optional, Sequence

from inception_tools.api._support import _check_dataset, _check_model
from inception_tools.basis.result import BasisStudy


def basis(model, layer: str, dataset, out: Optional[str] = None, distribute=None, **settings) -> BasisStudy:
    """Neuron basis vs principal components of ``layer`` (Dey et al.): explained variance, ablation curves.

    Args:
        model: a loaded model (:func:`inception_tools.load_model`).
        layer: the layer studied (its output; ``<layer>_pre_relu`` too when the model has it).
        dataset: the labelled images (:func:`inception_tools.load_dataset`).
        out: the study folder (settings.json, basis.json, the curves, strips, renders and the basis gallery),
            through the study runner: a finished folder is read back, an interrupted one continues. Default:
            nothing is written.
        distribute: runs the ablation's image batches as Ray tasks (:func:`inception_tools.scale.basis.distributor`).
        **settings: fields of :class:`inception_tools.basis.config.BasisConfig` (``seed``, ``components``,
            ``ablate``, ``vectors``, ``render``...).

    Returns:
        :class:`inception_tools.basis.result.BasisStudy`: the sample, both bases, the explained-variance
        rows, the ablation curves and per-image outcomes, strips, renders and ``summary`` (what basis.json holds).
    """
    from inception_tools.basis.config import BasisConfig
    from inception_tools.basis.stage import basis_study, compute
    from inception_tools.surgery import Network

    config = BasisConfig(**settings)
    _check_model(model).check_layer(layer, "ablate")
    _check_dataset(dataset)
    net = Network(model, layer)
    try:
        if out is None:
            return compute(net, dataset, config, distribute=distribute)
        return basis_study(net, dataset, out, config, distribute=distribute)
    finally:
        net.close()


def classes(model, dataset, layers: Sequence[str], out: Optional[str] = None, distribute=None, **settings):
    """Per-class unit statistics of ``layers`` and how the classes differ (Teague).

    Args:
        settings: fields of :class:`inception_tools.classes.config.ClassesConfig` (``classes``, ``threshold``,
            ``position``, ``min_fraction``, ``replicates``...).
        out: folder for classes.csv, the matrices, heatmaps and page (default: nothing is written).
        distribute: runs the pass's image batches as Ray tasks (:func:`inception_tools.scale.classes.distributor`).

    Returns:
        :class:`inception_tools.classes.result.ClassStats`: per layer the class means, variances, active
        counts and fractions and contributing units ([K, C] arrays: ``result.mean["mixed3a"]``, row
        ``result.index("7")``), the images seen and kept per class, and ``summary`` (what ``classes.json``
        holds: settings, per-class counts, per-layer distances and overlaps).
    """
    from inception_tools.classes import ClassesConfig, class_study
    from inception_tools.classes.stage import compute

    config = ClassesConfig(tuple([layers] if isinstance(layers, str) else layers), **settings)
    _check_model(model)
    _check_dataset(dataset)
    if out is None:
        return compute(model, dataset, config, distribute=distribute)
    return class_study(model, dataset, config, out, distribute=distribute)


def blocks(model, image: str, layers: Optional[Sequence[str]] = None, out: Optional[str] = None, **settings):
    """One image's building blocks: semantic dictionary, attribution to classes, neuron groups (Olah et al.).

    Args:
        image: the image file; layers: default the model's (mixed4d for InceptionV1).
        settings: fields of :class:`inception_tools.blocks.config.BlocksConfig` (``classes``, ``n_classes``,
            ``top_n``, ``n_groups``, ``data``, ``render``...).
        out: the page folder, with thumbnails rendered through the shared render cache (default: nothing
            is written or rendered).

    Returns:
        :class:`inception_tools.blocks.build.Blocks` (the image, the classes and each layer's numbers).
    """
    from inception_tools.blocks.build import analyse
    from inception_tools.blocks.config import BlocksConfig
    from inception_tools.blocks.stage import blocks_page

    _check_model(model)
    if layers is None:
        layers = model.entry.blocks_layers.split(",")
    config = BlocksConfig(tuple([layers] if isinstance(layers, str) else layers), **settings)
    if out is None:
        return analyse(model, image, config)
    return blocks_page(model, image, config, out).blocks
