"""The toolkit from a notebook: the main operations on in-memory objects.

    import inception_tools as it

    model = it.load_model("embedded")                      # or it.load_model("InceptionV1", path)
    ds = it.load_dataset("embedded", model, limit=300)     # a folder, an .npz, "embedded", "embedded-train"
    table = it.importance(model, "mixed3a", ds)            # every channel, every measure, intervals
    table.columns["mean_kl"], table.summary["reliability"]
    images = it.render(model, "mixed3a", 83, steps=64)     # Lucid: float32 [4, S, S, 3] in [0, 1]
    top = it.examples(model, "mixed3a", ds, channels=[83]) # strongest and weakest dataset examples

The command-line tool calls the same functions. TensorFlow is imported only
when a function needs it.
"""

from __future__ import annotations

import tempfile
from typing import Optional, Sequence

from inception_tools import layout
from inception_tools.errors import UserError


def load_model(name: str = "embedded", path: Optional[str] = None, layers: Sequence[str] = ()):
    """A frozen classifier ready for surgery.

    Args:
        name: a catalog name: ``embedded`` (the bundled digit model), ``InceptionV1``, ...
        path: a local frozen GraphDef to use instead of the zoo download.
        layers: layers that must be present (checked now, one clear error otherwise).

    Returns:
        :class:`inception_tools.models.model.Model`.
    """
    from inception_tools.models import load_model as load

    return load(name, path, layers=list(layers))


def load_dataset(source, model, resize: Optional[str] = None, limit: Optional[int] = None):
    """Labelled images for ``model``: a folder, a downsampled-ImageNet ``.npz``, ``"embedded"`` or ``"embedded-train"``.

    Returns:
        :class:`inception_tools.data.dataset.Dataset` (``len()``, ``labels``, ``ids``, ``images(start, stop)``).
    """
    from inception_tools.data import load_dataset as load

    return load(source, model, resize=resize, limit=limit)


def importance(model, layer: str, dataset, channels: Optional[Sequence[int]] = None, top_k: Optional[int] = None,
               method: str = "fast", ablation: str = "mean", out: Optional[str] = None,
               until_reliable: Optional[float] = None, score: str = "importance", batch_size: int = 32,
               report=None, basis: Optional[str] = None, components: Optional[int] = None, distribute=None):
    """Mean-ablation importance of ``channels`` (default: all) of ``layer``, with every measure.

    Args:
        top_k: correct = true class in the top k (default: the model's, 10 for InceptionV1).
        method: ``fast`` (default) or ``reference`` (the study's partial_run per channel).
        ablation: ``mean`` (the study's) or ``zero``.
        out: importance CSV to write (with its .json and per-image outcomes); default: a new temporary folder.
        until_reliable: stop once ``score``'s projected split-half reliability reaches this (images shuffled).
        report: callable for one-line messages (default: the logger).
        basis: ``"pca"`` scores the layer's principal components (PC 1 = row 0) instead of channels,
            with the same measures; ``components`` of them (default: all).
        distribute: run the scan's pieces as Ray tasks: ``inception_tools.scale.importance.distributor(recipe,
            ray)`` inside ``inception_tools.scale.ray_session.session(address, workers)`` (same bytes as here).

    Returns:
        :class:`inception_tools.importance.run.ScanResult`: ``rows``, ``columns`` (name -> array, in
        channel order), ``summary`` (accuracy, reliability, ...) and ``store`` (per-image outcomes).
    """
    from inception_tools.importance import score_layer
    from inception_tools.surgery import Network

    if basis is not None and channels is not None:
        raise UserError("with basis, choose the principal components with components, not channels")
    if channels is not None:
        channels = model.check_channels(layer, channels)
    out = out or layout.importance_csv(tempfile.mkdtemp(prefix="inception_tools-"))
    net = Network(model, layer)
    try:
        return score_layer(net, dataset, channels, out, top_k or model.default_top_k, ablation, batch_size,
                           engine=method, until=until_reliable, score=score, report=report, basis=basis,
                           components=components, distribute=distribute)
    finally:
        net.close()


def reliability(table_or_csv, splits: int = 20, seed: int = 0, resamples: int = 1000):
    """Split-half reliability, images needed and group stability of every measure.

    Args:
        table_or_csv: a :func:`importance` result, or the path of an importance CSV with its outcomes.

    Returns:
        The report dict (``report["measures"][name]["rho"]``, ...; see :mod:`inception_tools.importance.reliability`).
    """
    from inception_tools.importance import OutcomeStore
    from inception_tools.importance.reliability import assess

    store = table_or_csv.store if hasattr(table_or_csv, "store") else OutcomeStore.open(table_or_csv)
    return assess(store, splits, seed, resamples)[0]


def render(model, layer: str, channel: int, steps: int = 512, size: Optional[int] = None, seed: int = 0,
           objective: str = "diversity", engine: str = "fast"):
    """Lucid feature visualizations of one channel (Lucid's defaults; ``objective``: diversity, channel, ...).

    ``engine``: ``"fast"`` or ``"render_vis"`` (Lucid's own loop; see :mod:`inception_tools.render_engine`).

    Returns:
        float32 [4, size, size, 3] in [0, 1]: four images, bit-reproducible per ``seed`` and engine.
    """
    from inception_tools.visualization import render as lucid_render

    model.check_pre_relu(layer)
    model.check_channels(layer, [channel])
    return lucid_render(model, layer, [channel], steps=steps, size=size, seed=seed, objective=objective,
                        engine=engine)[0]


def examples(model, layer: str, dataset, channels: Optional[Sequence[int]] = None, k: int = 8,
             mode: str = "center", batch_size: int = 32):
    """The ``k`` most and least activating dataset images of each channel, in one pass over ``dataset``.

    Returns:
        dict channel -> {"top": ids, "top_values", "top_positions", "top_rows", and the same for "bottom"}.
    """
    from inception_tools.examples import examples_table, single_pass

    depth = model.depth(layer)
    channels = list(range(depth)) if channels is None else model.check_channels(layer, channels)
    top, bottom = single_pass(model, layer, dataset, k=k, mode=mode, batch_size=batch_size)
    return {int(c): entry for c, entry in examples_table(top, bottom, dataset.ids, channels).items()}


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
