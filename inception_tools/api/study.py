"""The study's commands as functions: models, data, importance, reliability, renders, examples, groups,
gallery, survey answers and their analysis."""

from __future__ import annotations

import numbers
from typing import Optional, Sequence

from inception_tools.errors import UserError
from inception_tools.api._support import _check_dataset, _check_model, _refuse_overwrite


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


def load_dataset(source, model, resize: Optional[str] = None, limit: Optional[int] = None,
                 cache: Optional[str] = None, store: str = "auto", workers: Optional[int] = None):
    """Labelled images for ``model``: a folder, a downsampled-ImageNet ``.npz``, ``"embedded"`` or ``"embedded-train"``.

    Args:
        resize: ``center-crop`` (folders' default), ``64-upscale`` (``.npz``'s default) or ``native``.
        limit: keep this many images, class-balanced.
        cache: a folder: a photo folder's decoded pixels are kept there once (memory-mapped) and reused by
            every later call on the same files.
        store: a photo folder's pixels ``auto`` (in memory up to 1 GiB, else streamed), ``memory`` or
            ``stream`` (decoded batch by batch, the next one in the background: bounded memory).
        workers: decoding threads (default: the cores, at most 4).

    Returns:
        :class:`inception_tools.data.dataset.Dataset` (``len()``, ``labels``, ``ids``, ``images(start, stop)``).
    """
    from inception_tools.data import load_dataset as load

    from inception_tools.data.reading import Reading

    _check_model(model)
    return load(source, model, resize=resize, limit=limit, reading=Reading(store, cache, workers))


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
        :class:`inception_tools.importance.stage.Importance`: ``rows``, ``columns`` (name -> array, in
        channel order), ``summary`` (accuracy, reliability, ...) and ``store`` (per-image outcomes; in memory
        without ``out``).
    """
    from inception_tools.importance import ImportanceConfig, compute, score_layer
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
            return score_layer(net, dataset, config, out, report=report, distribute=distribute,
                               reads=[model.path])
        return compute(net, dataset, config, distribute=distribute, report=report)
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


def render(model, layer=None, channel=None, *, steps: int = 512, size: Optional[int] = None,
           seed: int = 0, objective="diversity", engine: Optional[str] = None, batch: int = 4, per_call: int = 1,
           out: Optional[str] = None):
    """Lucid feature visualizations: of any Lucid objective, or of one channel with the study's recipe.

    As Lucid's ``render_vis(model, objective)``, with Lucid's parameterisation (Fourier, decorrelated
    colour), its standard transforms and Adam::

        from lucid.optvis import objectives      # after inception_tools.lucid_compat.import_lucid()
        obj = objectives.channel("mixed3a", 83) - 1e2 * objectives.diversity("mixed3a")
        images = it.render(model, obj, steps=64)           # or it.render(model, objective=obj, ...)
        images = it.render(model, "mixed3a:83")            # Lucid's string shortcut: channel("mixed3a", 83)
        images = it.render(model, "mixed3a", 83)           # the study's recipe (objective="diversity")
        renders = it.render(model, "mixed3a", [83, 5], out="study")  # several channels, kept in a study folder

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
        channel: the channel of ``layer`` (only with a layer name), or a list of channels.
        steps: Adam steps (Lucid's ``thresholds=(steps,)``; Lucid's default 512).
        size: image side in pixels (default: the model's input size).
        seed: bit-reproducible per seed and engine.
        objective: with ``layer`` and ``channel``, a recipe name; without them, a Lucid objective (as ``layer``).
        engine: ``"fast"`` or ``"render_vis"`` (Lucid's own loop; see :mod:`inception_tools.render_engine`);
            default ``"fast"``, or with ``out`` the engine of the renders already in the folder.
        batch: images optimized together for a Lucid objective (the recipes always render 4).
        per_call: channels of a list optimized together in one call.
        out: a study folder to keep a recipe's renders in (``visualizations/<layer>[-<objective>]/``: a
            ``.npy`` and ``.png`` per channel, through the study runner: channels already there are read
            back, others added); default: nothing is written.

    Returns:
        float32 [batch, size, size, 3] in [0, 1] (4 images for a recipe); for a list of channels a
        :class:`inception_tools.renders.Renders` (``images`` [channels, 4, size, size, 3]).
    """
    from inception_tools.render_engine import DEFAULT_ENGINE
    from inception_tools.renders import RendersConfig
    from inception_tools.visualization import OBJECTIVES, render_objective

    _check_model(model)
    recipe = isinstance(objective, str) and objective in OBJECTIVES
    if layer is not None and not recipe:
        raise UserError("give a layer and a channel with a recipe objective, or a Lucid objective alone")
    if isinstance(layer, str) and ":" not in layer:
        if channel is None:
            raise UserError(f"render of layer {layer} needs a channel (or pass a Lucid objective such as "
                            f"\"{layer}:0\")")
        channels = (channel,) if isinstance(channel, numbers.Integral) else channel
        return _render_channels(model, layer, channel, out, RendersConfig(
            layer=layer, channels=channels, steps=steps, size=size, seed=seed, objective=objective, engine=engine,
            per_call=per_call))
    if channel is not None:
        raise UserError("channel goes with a layer name, not with a Lucid objective")
    if out is not None:
        raise UserError("out keeps the renders of a layer's channels; a Lucid objective's images are returned only")
    return render_objective(model, objective if layer is None else layer, steps=steps, size=size, seed=seed,
                            batch=batch, engine=engine or DEFAULT_ENGINE)


def _render_channels(model, layer, channel, out, config):
    """``it.render`` of a layer's channels: in memory, or through the study runner into ``out``."""
    from inception_tools import renders, runner
    from inception_tools.layout import visualization_dir

    if out is None:
        result = renders.compute(model, config)
    else:
        folder = visualization_dir(out, layer, config.objective)
        result = runner.run(renders.STAGE, renders.prepare(model, config, folder), folder, model=model)
    return result.images[0] if isinstance(channel, numbers.Integral) else result


def examples(model, layer: str, dataset, channels: Optional[Sequence[int]] = None, k: int = 8,
             mode: str = "center", batch_size: int = 32, out: Optional[str] = None):
    """The ``k`` most and least activating dataset images of each channel, in one pass over ``dataset``.

    Args:
        model, layer, dataset: the layer and the images ranked (by ``<layer>_pre_relu``).
        channels: the channels returned (default: all; the pass scores every channel).
        k: examples per channel and side.
        mode: ``center`` (the activation at the centre position, the study's) or ``max`` (the spatial
            maximum, and the minimum for the bottom examples).
        batch_size: images per ``session.run``.
        out: a study folder to write ``examples/<layer>[-max]/`` into (``examples.json`` of every channel,
            the PNG strips of ``channels``; a finished folder is read back); default: nothing is written.

    Returns:
        :class:`inception_tools.examples.Examples`: per channel (row ``result.index(c)``) the ``top_ids``,
        ``top_values``, ``top_positions``, ``top_rows`` (dataset indices) and the same for ``bottom``.
    """
    from inception_tools.examples import Examples, ExamplesConfig, dataset_examples, single_pass

    config = ExamplesConfig(k=k, mode=mode, batch_size=batch_size)
    _check_model(model).check_layer(layer, "visualize")
    _check_dataset(dataset)
    if k > len(dataset):
        raise UserError(f"cannot pick {k} examples from {len(dataset)} images")
    depth = model.depth(layer)
    channels = list(range(depth)) if channels is None else model.check_channels(layer, channels)
    if out is not None:
        return dataset_examples(model, layer, dataset, out, config, channels).select(channels)
    kept = single_pass(model, layer, dataset, k=config.k, mode=config.mode, batch_size=config.batch_size)
    return Examples.from_pass(layer, config.mode, kept, dataset.ids, channels)


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
