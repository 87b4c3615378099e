"""The analyses around the study: neuron basis vs principal components (Dey et al.), class-conditional
statistics (Teague), one image's building blocks (Olah et al.)."""

from __future__ import annotations

import dataclasses
import os
from typing import Optional, Sequence

from inception_tools.api._support import _check_dataset, _check_model, _folder, _read_json


@dataclasses.dataclass
class BasisStudy:
    """Neuron basis vs principal components of a layer: the bases, the sample and the summary."""

    bases: dict  # "pca" / "neuron" -> inception_tools.activations.pca.Basis
    sample: object  # inception_tools.activations.sample.Sample (the sampled activation vectors)
    summary: dict  # what basis.json holds: explained variance, ablation curves' claim check...


def basis(model, layer: str, dataset, out: Optional[str] = None, distribute=None, **settings):
    """Neuron basis vs principal components of ``layer`` (Dey et al.): explained variance, ablation curves.

    Args:
        settings: fields of :class:`inception_tools.basis.config.BasisConfig` (``seed``, ``components``,
            ``ablate``, ``vectors``, ``render``...).
        out: folder for basis.json, the curves and the basis gallery (default: nothing is written).
        distribute: runs the ablation's image batches as Ray tasks (:func:`inception_tools.scale.basis.distributor`).

    Returns:
        :class:`BasisStudy`.
    """
    from inception_tools.basis.config import BasisConfig
    from inception_tools.basis.stage import basis_study
    from inception_tools.surgery import Network

    config = BasisConfig(**settings)
    _check_model(model).check_layer(layer, "ablate")
    _check_dataset(dataset)
    net = Network(model, layer)
    try:
        with _folder(out) as folder:
            bases, sample = basis_study(net, dataset, folder, config, report=lambda line: None,
                                        distribute=distribute)
            return BasisStudy(bases, sample, _read_json(os.path.join(folder, "basis.json")))
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
