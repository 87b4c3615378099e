"""The toolkit from a notebook: the main operations on in-memory objects.

    import inception_tools as it

    model = it.load_model("embedded")                      # or it.load_model("InceptionV1", path)
    ds = it.load_dataset("embedded", model, limit=300)     # a folder, an .npz, "embedded", "embedded-train"
    table = it.importance(model, "mixed3a", ds)            # every channel, every measure, intervals
    table.columns["mean_kl"], table.summary["reliability"]
    images = it.render(model, "mixed3a", 83, steps=64)     # Lucid: float32 [4, S, S, 3] in [0, 1]
    images = it.render(model, objectives.channel("mixed3a", 83) - 1e2 * objectives.diversity("mixed3a"))
    top = it.examples(model, "mixed3a", ds, channels=[83]) # strongest and weakest dataset examples

The command-line tool calls the same functions. TensorFlow is imported only
when a function needs it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json

import os
import tempfile
from typing import Optional, Sequence

from inception_tools import layout
from inception_tools.errors import UserError


def _check_model(model):
    """UserError unless ``model`` is a loaded model (a name such as ``"embedded"`` is not)."""
    from inception_tools.models.model import Model

    if not isinstance(model, Model):
        hint = f" (it.load_model({model!r}) loads one)" if isinstance(model, str) else " (from it.load_model)"
        raise UserError(f"model must be a loaded model{hint}, not {type(model).__name__} {str(model)[:40]!r}")
    return model


def _check_dataset(dataset):
    """UserError unless ``dataset`` is a loaded dataset (a folder name is not)."""
    from inception_tools.data.dataset import Dataset

    if not isinstance(dataset, Dataset):
        raise UserError(f"dataset must be a loaded dataset (from it.load_dataset), not {type(dataset).__name__} "
                        f"{str(dataset)[:40]!r}")
    return dataset


def load_model(name: str = "embedded", path: Optional[str] = None, layers: Sequence[str] = (),
               card: Optional[str] = None):
    """A frozen classifier ready for surgery.

    Args:
        name: a catalog name: ``embedded`` (the bundled digit model), ``InceptionV1``, ...; any class of
            ``lucid.modelzoo.vision_models`` (``ResnetV2_50_slim``); or a model file: a frozen ``.pb``, a Keras
            ``.keras``/``.h5`` file or a SavedModel folder (docs/guides/models.md).
        path: a local frozen GraphDef to use instead of the zoo download.
        layers: layers that must be present (checked now, one clear error otherwise).
        card: a model file's card (default: ``<file>.card.json`` beside it, or the one written when a
            Keras file or SavedModel was frozen).

    Returns:
        :class:`inception_tools.models.model.Model`.
    """
    from inception_tools.models import load_model as load

    if isinstance(layers, str) or not all(isinstance(layer, str) for layer in layers):
        raise UserError(f"layers must be a list of layer names, not {layers!r}")
    return load(name, path, layers=list(layers), card=card)


def load_dataset(source, model, resize: Optional[str] = None, limit: Optional[int] = None):
    """Labelled images for ``model``: a folder, a downsampled-ImageNet ``.npz``, ``"embedded"`` or ``"embedded-train"``.

    Returns:
        :class:`inception_tools.data.dataset.Dataset` (``len()``, ``labels``, ``ids``, ``images(start, stop)``).
    """
    from inception_tools.data import load_dataset as load

    _check_model(model)
    return load(source, model, resize=resize, limit=limit)


def importance(model, layer: str, dataset, channels: Optional[Sequence[int]] = None, out: Optional[str] = None,
               report=None, distribute=None, **settings):
    """Mean-ablation importance of ``channels`` (default: all) of ``layer``, with every measure.

    Args:
        channels: the channels to score (default: all).
        out: importance CSV to write (with its .json and per-image outcomes); default: nothing is written.
        report: callable for one-line messages (default: the logger).
        distribute: run the scan's pieces as Ray tasks: ``inception_tools.scale.importance.distributor(recipe,
            ray)`` inside ``inception_tools.scale.ray_session.session(address, workers)`` (same bytes as here).
        settings: fields of :class:`inception_tools.importance.config.ImportanceConfig`: ``top_k`` (default:
            the model's, 10 for InceptionV1), ``engine`` (``fast`` or ``reference``, the study's partial_run
            per channel), ``ablation`` (``mean`` or ``zero``), ``until`` (stop once ``score``'s projected
            split-half reliability reaches this), ``batch_size``, ``basis="pca"`` with ``components`` (score
            the layer's principal components, PC 1 = row 0, instead of channels)...

    Returns:
        :class:`inception_tools.importance.run.ScanResult`: ``rows``, ``columns`` (name -> array, in
        channel order), ``summary`` (accuracy, reliability, ...) and ``store`` (per-image outcomes).
    """
    from inception_tools.importance import ImportanceConfig, score_layer
    from inception_tools.surgery import Network

    _check_model(model).check_layer(layer, "ablate")
    _check_dataset(dataset)
    if settings.get("top_k") is not None:
        model.check_top_k(settings["top_k"])
    if settings.get("basis") is not None and channels is not None:
        raise UserError("with basis, choose the principal components with components, not channels")
    if channels is not None:
        channels = model.check_channels(layer, channels)
    config = ImportanceConfig(channels, **settings)
    net = Network(model, layer)
    try:
        if out is not None:
            return score_layer(net, dataset, config, out, report=report, distribute=distribute)
        with tempfile.TemporaryDirectory(prefix="inception_tools-") as folder:
            return score_layer(net, dataset, config, layout.importance_csv(folder), report=report,
                               distribute=distribute).in_memory()
    finally:
        net.close()


def reliability(table_or_csv, splits: int = 20, seed: int = 0, resamples: int = 1000):
    """Split-half reliability, images needed and group stability of every measure.

    Args:
        table_or_csv: a :func:`importance` result, or the path of an importance CSV with its outcomes.

    Returns:
        The report dict (``report["measures"][name]["rho"]``, ...; see :mod:`inception_tools.importance.reliability`).
        A scan made with an estimator other than ``exact`` is assessed with its estimator: from its CSV's
        files, or, for an in-memory result, the report its scan made.
    """
    from inception_tools.guards import check_seed
    from inception_tools.importance import OutcomeStore
    from inception_tools.importance.estimated import reassess
    from inception_tools.importance.reliability import assess
    from inception_tools.importance.summary import read_summary

    check_seed(seed)
    for name, value in (("splits", splits), ("resamples", resamples)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UserError(f"{name} must be a positive integer, not {value!r}")
    if hasattr(table_or_csv, "store"):
        if "estimator" in table_or_csv.summary:
            return table_or_csv.summary["reliability"]
        return assess(table_or_csv.store, splits, seed, resamples)[0]
    if not isinstance(table_or_csv, (str, bytes)) and not hasattr(table_or_csv, "__fspath__"):
        raise UserError(f"give an importance result or the path of an importance CSV, not {type(table_or_csv).__name__}")
    if "estimator" in read_summary(table_or_csv):
        return reassess(table_or_csv, splits, seed, resamples)
    return assess(OutcomeStore.open(table_or_csv), splits, seed, resamples)[0]


def render(model, layer=None, channel: Optional[int] = None, steps: int = 512, size: Optional[int] = None,
           seed: int = 0, objective="diversity", engine: str = "fast", batch: int = 4):
    """Lucid feature visualizations: of any Lucid objective, or of one channel with the study's recipe.

    As Lucid's ``render_vis(model, objective)``, with Lucid's parameterisation (Fourier, decorrelated
    colour), its standard transforms and Adam::

        from lucid.optvis import objectives      # after inception_tools.lucid_compat.import_lucid()
        obj = objectives.channel("mixed3a", 83) - 1e2 * objectives.diversity("mixed3a")
        images = it.render(model, obj, steps=64)           # or it.render(model, objective=obj, ...)
        images = it.render(model, "mixed3a:83")            # Lucid's string shortcut: channel("mixed3a", 83)
        images = it.render(model, "mixed3a", 83)           # the study's recipe (objective="diversity")

    Both engines run any objective (the fast engine changes how the network's gradients are computed,
    not the objective; a Lucid ``objectives.diversity`` term keeps Lucid's arithmetic there, and
    ``inception_tools.fast_render.diversity`` is its faster equal). The recipes are
    ``channel(layer_pre_relu, c) - w * diversity(layer)`` (``"diversity"``, the study's; w = 1e2 for
    InceptionV1), ``"channel"``, ``"neuron"`` and ``"negative"``
    (:mod:`inception_tools.visualization`).

    Args:
        model: a loaded model.
        layer: a layer name, with ``channel`` (the study's recipe named by ``objective``); or the objective
            itself: a ``lucid.optvis.objectives.Objective``, a callable ``T -> loss`` or ``"layer:n"``.
        channel: the channel of ``layer`` (only with a layer name).
        steps: Adam steps (Lucid's ``thresholds=(steps,)``; Lucid's default 512).
        size: image side in pixels (default: the model's input size).
        seed: bit-reproducible per seed and engine.
        objective: with ``layer`` and ``channel``, a recipe name; without them, a Lucid objective (as ``layer``).
        engine: ``"fast"`` or ``"render_vis"`` (Lucid's own loop; see :mod:`inception_tools.render_engine`).
        batch: images optimized together for a Lucid objective (the recipes always render 4).

    Returns:
        float32 [batch, size, size, 3] in [0, 1] (4 images for a recipe).
    """
    from inception_tools.visualization import OBJECTIVES, render as lucid_render, render_objective

    _check_model(model)
    recipe = isinstance(objective, str) and objective in OBJECTIVES
    if layer is not None and not recipe:
        raise UserError("give a layer and a channel with a recipe objective, or a Lucid objective alone")
    if isinstance(layer, str) and ":" not in layer:
        if channel is None:
            raise UserError(f"render of layer {layer} needs a channel (or pass a Lucid objective such as "
                            f"\"{layer}:0\")")
        model.check_pre_relu(layer)
        model.check_channels(layer, [channel])
        return lucid_render(model, layer, [channel], steps=steps, size=size, seed=seed, objective=objective,
                            engine=engine)[0]
    if channel is not None:
        raise UserError("channel goes with a layer name, not with a Lucid objective")
    return render_objective(model, objective if layer is None else layer, steps=steps, size=size, seed=seed,
                            batch=batch, engine=engine)


def examples(model, layer: str, dataset, channels: Optional[Sequence[int]] = None, k: int = 8,
             mode: str = "center", batch_size: int = 32):
    """The ``k`` most and least activating dataset images of each channel, in one pass over ``dataset``.

    Returns:
        dict channel -> {"top": ids, "top_values", "top_positions", "top_rows", and the same for "bottom"}.
    """
    from inception_tools.examples import examples_table, single_pass

    _check_model(model).check_layer(layer, "visualize")
    _check_dataset(dataset)
    depth = model.depth(layer)
    channels = list(range(depth)) if channels is None else model.check_channels(layer, channels)
    top, bottom = single_pass(model, layer, dataset, k=k, mode=mode, batch_size=batch_size)
    return {int(c): entry for c, entry in examples_table(top, bottom, dataset.ids, channels).items()}


def select(importance_csv, top: int = 40, middle: int = 40, seed: int = 0, score: str = "importance",
           out: Optional[str] = None):
    """The survey's two groups of channels, top and middle of the ranking, in one seeded blind order.

    Args:
        importance_csv: an importance CSV (``it.importance(..., out=...)`` or the ``importance`` command).
        top, middle: group sizes; seed: the blind order; score: the measure ranked by.
        out: groups CSV to write (default: nothing is written).

    Returns:
        list of :class:`inception_tools.tables.GroupMember` (order, channel, group, importance, rank, score).
    """
    from inception_tools.selection import select_groups
    from inception_tools.tables import write_groups

    if out is not None:
        _refuse_overwrite(out, importance_csv)
    members = select_groups(importance_csv, top, middle, seed, score)
    if out is not None:
        write_groups(members, out)
    return members


def gallery(study: str, top_n: int = 40, columns: int = 2, score: str = "importance", out: Optional[str] = None):
    """The importance-ranked channels of a study folder, and with ``out`` its static gallery.

    Args:
        study: a study folder (with importance.csv; visualizations and examples are shown when present).
        top_n, columns: channels and columns of the contact sheet.
        score: the measure ranked by.
        out: the gallery folder to write (``index.html``, one page per channel, contact sheet); the
            command line uses ``<study>/gallery``. Default: nothing is written.

    Returns:
        list of :class:`inception_tools.gallery.ChannelImportance`, most important first (``rank`` 1).
    """
    from inception_tools.gallery import build_gallery, read_channels

    channels = read_channels(study, score)
    if out is not None:
        build_gallery(study, top_n=top_n, columns=columns, score=score, out=out)
    return channels


def survey_answers(study: str, answers: Optional[str] = None):
    """The survey's answers so far, one dict per answered feature (participant, neuron, question1...).

    Args:
        study: the study folder; answers: the answers CSV (default ``<study>/answers.csv``).

    Returns:
        list of dict rows in the order they were given (empty when nobody has answered).
    """
    import os

    from inception_tools.analysis.answers import ANSWER_COLUMNS
    from inception_tools.survey import default_answers_path
    from inception_tools.tables import read_rows

    path = answers or default_answers_path(study)
    if not os.path.isfile(path):
        return []
    return [row for _, row in read_rows(path, ANSWER_COLUMNS)]


def analyze(importance_csv, answers: Sequence[str], groups: Optional[str] = None, top: int = 40,
            keep_invalid: bool = False, resamples: int = 10_000, seed: int = 0, out: Optional[str] = None):
    """Interpretability of the survey's features against their importance (Terekhov's analysis).

    Args:
        importance_csv: the layer's importance CSV; answers: answer CSVs.
        groups: the groups CSV of :func:`select` (default: rank <= ``top`` is top, else middle).
        keep_invalid: keep numeric answers outside 1-5 as they are (default: exclude them).
        resamples, seed: the bootstrap interval of the groups' difference.
        out: folder for report.md, summary.json and the figures (default: nothing is written).

    Returns:
        The summary dict: ``groups`` (mean importance and I per group), ``mann_whitney``, ``bootstrap``,
        ``agreement``, ``features`` (per-feature I).
    """
    from inception_tools.analysis.study import analyze as write_analysis, summarize

    if out is None:
        return summarize(importance_csv, list(answers), groups, top, keep_invalid, resamples, seed)
    return write_analysis(importance_csv, list(answers), out, groups, top, keep_invalid, resamples, seed)


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
        The ``classes.json`` summary (settings, per-class counts, per-layer distances and overlaps).
    """
    from inception_tools.classes import ClassesConfig, class_study

    config = ClassesConfig(tuple([layers] if isinstance(layers, str) else layers), **settings)
    _check_model(model)
    _check_dataset(dataset)
    with _folder(out) as folder:
        return class_study(model, dataset, config, folder, distribute=distribute)


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
    from inception_tools.blocks.build import analyse, write_blocks
    from inception_tools.blocks.config import BlocksConfig

    _check_model(model)
    if layers is None:
        layers = model.entry.blocks_layers.split(",")
    config = BlocksConfig(tuple([layers] if isinstance(layers, str) else layers), **settings)
    result = analyse(model, image, config)
    if out is not None:
        write_blocks(model, image, result, config, out)
    return result


@contextlib.contextmanager
def _folder(out):
    """``out``, or a temporary folder removed afterwards (results are read into memory before it goes)."""
    if out is not None:
        yield os.fspath(out)
        return
    with tempfile.TemporaryDirectory(prefix="inception_tools-") as folder:
        yield folder


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _refuse_overwrite(out, *inputs):
    """A one-line UserError when the output path is one of the inputs."""
    for path in inputs:
        if os.path.realpath(os.fspath(out)) == os.path.realpath(os.fspath(path)):
            raise UserError(f"the output {out} is an input: choose another path")

def circuit(model, layer: str, channel: int, inputs_from: Optional[str] = None, top: int = 8,
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


def tuning(model, layer: str, channels: Sequence[int] = (), stimulus: str = "curve", dataset=None,
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


def atlas(model, dataset, layer, grid: int = 20, per_image: int = 1, seed: int = 0, min_count: int = 5,
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
