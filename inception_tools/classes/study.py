"""``class_study``: the whole class-conditional activation study of some layers, in one call.

Teague's method ("Exploring Interpretability", 2024) on any model of the
toolkit: keep the images each class gets right with high confidence, collect
every unit's per-class mean, variance and activation count
(:mod:`.collect`), compare the classes by the distance of their mean and count
vectors and the overlap of their contributing sets (:mod:`.compare`), and
write the tables, heatmaps and page (:mod:`.report`). Given importance scans
of some of the layers, it adds what the classes' images lose when each unit
is ablated (:mod:`.importance`).
"""

import json
import os

import numpy as np

from inception_tools.blocks.build import parse_classes, real_classes
from inception_tools.classes.collect import collect
from inception_tools.classes.importance import COLUMNS, class_importance, matter_vs_active
from inception_tools.classes.report import importance_markdown, write_report
from inception_tools.classes.result import ClassStats
from inception_tools.errors import UserError
from inception_tools.importance.store import OutcomeStore
from inception_tools.layout import summary_json


def resolve_classes(model, spec=None):
    """Output indices of ``spec`` ("3,7", label ids or names), or every real class of the model."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return real_classes(model)
    if isinstance(spec, str):
        return parse_classes(spec, model)
    real = set(real_classes(model))
    bad = [c for c in spec if c not in real]
    if bad:
        raise UserError(f"unknown class {bad[0]!r} for {model.name}: give an output index, label id or label name")
    return list(spec)


def open_scans(model, layers, csv_paths):
    """``{layer: OutcomeStore}`` of importance CSVs, each checked to be a scan of ``model`` on one of ``layers``."""
    scans = {}
    for path in csv_paths or ():
        meta = summary_json(os.fspath(path))
        if not os.path.isfile(meta):
            raise UserError(f"{meta} not found: give the importance.csv of a finished scan")
        with open(meta) as f:
            summary = json.load(f)
        if summary.get("model") != model.name or summary.get("layer") not in layers:
            raise UserError(f"{path} scores {summary.get('model')} {summary.get('layer')}, not a layer of "
                            f"{model.name} among the layers studied ({', '.join(layers)})")
        scans[summary["layer"]] = OutcomeStore.open(path)
    return scans


def class_study(model, dataset, config, out_dir, distribute=None):
    """Run the study ``config`` describes on ``model`` over ``dataset``; write ``out_dir``; return the result.

    Args:
        model, dataset: the model and its labelled images.
        config: a :class:`~inception_tools.classes.config.ClassesConfig`.
        out_dir: the study folder (the pass's checkpoint and statistics, and the report's files).
        distribute: runs the pass's image batches elsewhere (:func:`inception_tools.scale.classes.distributor`).

    Returns:
        :class:`~inception_tools.classes.result.ClassStats`; its ``summary`` is the ``classes.json`` summary
        (settings, per-class counts, per-layer distances) plus ``empty_classes`` (labels without a kept image).
    """
    c = config
    layers = list(c.layers)
    for layer in layers:
        model.check_layer(layer, "activations")
    classes = resolve_classes(model, c.classes)
    scans = open_scans(model, layers, c.importance)
    stats, seen, kept, settings = collect(model, dataset, c, classes, out_dir, distribute)
    empty = [model.label_names[k] for n, k in enumerate(classes) if kept[n] == 0]
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
    result.summary = write_report(out_dir, result)
    result.summary["empty_classes"] = empty
    return result
