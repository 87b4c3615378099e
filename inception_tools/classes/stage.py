"""The ``classes`` stage on the study runner: compute, write and read back a class-activation study.

:func:`compute` is the study in memory (the resumable pass of :mod:`.collect`, the comparisons, the
class-restricted importance when scans are given); :func:`write` writes ``stats.npz`` (the finished
pass: its settings, tallies and every layer's statistics, as before) and the report of
:mod:`.report`; :func:`read` gives a finished folder back as a
:class:`~inception_tools.classes.result.ClassStats` without passing over the images again.
:data:`STAGE` is what :func:`inception_tools.runner.run` needs: the runner adds ``settings.json``
(stage, config, model and dataset identity) beside ``classes.json``, whose own ``settings`` are kept.
"""

import csv
import json

import numpy as np

from inception_tools import runner
from inception_tools.classes.collect import STATS_FILE, collect, load_state, state_arrays
from inception_tools.classes.contribution import path_weights
from inception_tools.classes.importance import COLUMNS, class_importance, matter_vs_active
from inception_tools.classes.report import CSV_COLUMNS, importance_markdown, summarize, tables_markdown, write_report
from inception_tools.classes.result import ClassStats
from inception_tools.classes.stats import ClassAccumulator
from inception_tools.classes.study import open_scans, resolve_classes

OUTPUTS = (STATS_FILE, "classes.csv", "tables.md", "classes.json", "depth.png", "index.html")


def compute(model, dataset, config, checkpoint=None, distribute=None):
    """The study ``config`` describes on ``model`` over ``dataset``, in memory.

    Args:
        model, dataset: the model and its labelled images.
        config: a :class:`~inception_tools.classes.config.ClassesConfig`.
        checkpoint: where the pass saves its progress (:class:`inception_tools.runner.Checkpoint`).
        distribute: runs the pass's image batches elsewhere (:func:`inception_tools.scale.classes.distributor`).

    Returns:
        :class:`~inception_tools.classes.result.ClassStats`; its ``summary`` is the ``classes.json`` summary
        (settings, per-class counts, per-layer distances) plus ``empty_classes`` (labels without a kept image).
    """
    c = config
    layers = list(c.layers)
    classes, scans = check(model, c)
    stats, seen, kept, settings = collect(model, dataset, c, classes, checkpoint, distribute)
    extra, matter, markdown = None, {}, ""
    if scans:
        extra = {name: {} for name in COLUMNS}
        for layer in layers:
            if layer in scans:
                columns, _ = class_importance(scans[layer], classes, model.depth(layer))
                matter[layer] = matter_vs_active(columns, stats[layer], stats[layer].contributing(c.min_fraction))
            else:
                columns = {name: np.full(stats[layer].mean.shape, np.nan) for name in COLUMNS}
            for name in COLUMNS:
                extra[name][layer] = columns[name]
        markdown = importance_markdown(matter, [model.label_names[k] for k in classes])
    result = ClassStats(stats, np.asarray(classes, np.int64), [model.label_names[k] for k in classes], seen, kept,
                        settings, c.min_fraction, matter, extra, markdown)
    return _summarized(result)


def check(model, config):
    """Refuse what ``model`` does not have (a layer, a class, a scan of it); return the classes and scans."""
    for layer in config.layers:
        model.check_layer(layer, "activations")
    if config.definition == "source":
        path_weights(model, config.layers)  # refuses layers without a dense path to the logits
    return resolve_classes(model, config.classes), open_scans(model, list(config.layers), config.importance)


def _summarized(result):
    result.summary = summarize(result)
    result.summary["empty_classes"] = [name for name, n in zip(result.labels, result.kept) if n == 0]
    return result


def write(result, folder):
    """``stats.npz`` and the report's files (:mod:`.report`) into ``folder`` (a :class:`runner.Folder`)."""
    arrays = state_arrays(result.settings, result.settings["n_images"], result.stats, result.seen, result.kept)
    with folder.temporary(STATS_FILE) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    write_report(folder.path, result)


def read(folder):
    """The :class:`ClassStats` of a finished folder (the statistics from ``stats.npz``, the rest from the report)."""
    summary = folder.read_json("classes.json")
    min_fraction = summary["settings"]["min_fraction"]
    with np.load(folder.file(STATS_FILE), allow_pickle=False) as state:
        settings = json.loads(str(state["config"]))
        stats = {layer: ClassAccumulator(*state[f"{layer}/mean"].shape, settings["active_threshold"],
                                         settings["bootstrap"], settings["seed"]) for layer in settings["layers"]}
        _, seen, kept = load_state(state, stats)
    matter = {layer: s["matter_vs_active"] for layer, s in summary["layers"].items() if "matter_vs_active" in s}
    with open(folder.file("tables.md"), encoding="utf-8") as f:
        table = f.read()[len(tables_markdown(summary)) + 1:]
    result = ClassStats(stats, np.asarray(settings["classes"], np.int64), [row["label"] for row in summary["per_class"]],
                        seen, kept, settings, min_fraction, matter, _read_columns(folder, stats), table)
    return _summarized(result)


def _read_columns(folder, stats):
    """The class-restricted importance columns of ``classes.csv`` as ``{column: {layer: [K, C]}}``, or None."""
    with open(folder.file("classes.csv"), newline="") as f:
        rows = csv.reader(f)
        names = next(rows)[len(CSV_COLUMNS):]
        if not names:
            return None
        values = np.array([[float(v) for v in row[len(CSV_COLUMNS):]] for row in rows])
    columns, start = {name: {} for name in names}, 0
    for layer, s in stats.items():
        size = s.mean.size
        for i, name in enumerate(names):
            columns[name][layer] = values[start:start + size, i].reshape(s.mean.shape)
        start += size
    return columns


STAGE = runner.Stage("classes", compute, write, outputs=OUTPUTS, read=read)


def class_study(model, dataset, config, out_dir, distribute=None):
    """Run the study ``config`` describes into ``out_dir`` through the study runner; return the result.

    Args:
        model, dataset: the model and its labelled images.
        config: a :class:`~inception_tools.classes.config.ClassesConfig`.
        out_dir: the study folder (``settings.json``, the pass's checkpoint in ``.partial/``, the report);
            a finished folder with the same settings is read back.
        distribute: runs the pass's image batches elsewhere (:func:`inception_tools.scale.classes.distributor`).

    Returns:
        :class:`~inception_tools.classes.result.ClassStats` (see :func:`compute`).

    Raises:
        UserError: the folder holds a study made with other settings, or another process writes it.
    """
    check(model, config)  # before the folder is made
    return runner.run(STAGE, config, out_dir, reads=config.importance, model=model, dataset=dataset,
                      distribute=distribute)
