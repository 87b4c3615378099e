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
from inception_tools.classes.collect import check_settings, collect
from inception_tools.classes.contribution import check_definition
from inception_tools.classes.importance import COLUMNS, class_importance, matter_vs_active
from inception_tools.classes.report import importance_markdown, write_report
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
                            f"{model.name} given in --layers ({', '.join(layers)})")
        scans[summary["layer"]] = OutcomeStore.open(path)
    return scans


def class_study(model, dataset, layers, out_dir, classes=None, threshold=0.9, position="mean", active_threshold=0.0,
                min_fraction=0.0, replicates=200, seed=0, batch_size=64, pixel_scaling="once", importance=(),
                distribute=None, definition="active"):
    """Run the study on ``layers`` of ``model`` over ``dataset``; write ``out_dir``; return the summary.

    Args:
        classes: output indices or a spec string (default: all real classes).
        threshold: keep images whose top-1 is the true class with at least this probability.
        position: ``mean`` | ``center`` | ``max`` of a convolutional channel (dense units as they are).
        active_threshold: a unit is active on an image when its value exceeds this.
        min_fraction: a unit contributes to a class when active on at least this fraction of its images.
        replicates: Poisson bootstrap replicates for the distance intervals (0: none).
        pixel_scaling: ``once`` or ``study`` (see :mod:`inception_tools.surgery`).
        importance: importance CSVs of finished scans of some of ``layers`` (with their outcome stores).
        distribute: runs the pass's image batches elsewhere (:func:`inception_tools.scale.classes.distributor`).
        definition: which unit values count for a class: ``active`` (ours: every value; a unit contributes when
            active on a kept image), ``source`` (Teague's: only values whose weighted contribution to the class,
            by the summed path weight, is positive) or ``source-gradient`` (sign of activation x gradient of the
            class logit, per image); see :mod:`inception_tools.classes.contribution`.

    Returns:
        The ``classes.json`` summary (settings, per-class counts, per-layer distances).
    """
    if not layers:
        raise UserError("give at least one layer (--layers L1,L2,...)")
    check_settings(threshold, position, active_threshold, min_fraction, replicates)
    check_definition(definition)
    for layer in layers:
        model.depth(layer)
    classes = resolve_classes(model, classes)
    scans = open_scans(model, layers, importance)
    stats, seen, kept, config = collect(model, dataset, layers, classes, out_dir, threshold, position,
                                        active_threshold, replicates, seed, batch_size, pixel_scaling, distribute,
                                        definition)
    empty = [model.label_names[c] for k, c in enumerate(classes) if kept[k] == 0]
    extra, matter, markdown = None, {}, ""
    if scans:
        extra = {name: {} for name in COLUMNS}
        for layer in layers:
            if layer in scans:
                columns, _ = class_importance(scans[layer], classes, model.depth(layer))
                matter[layer] = matter_vs_active(columns, stats[layer], stats[layer].contributing(min_fraction))
            else:
                columns = {name: np.full(stats[layer].mean.shape, np.nan) for name in COLUMNS}
            for name in COLUMNS:
                extra[name][layer] = columns[name]
        markdown = importance_markdown(matter, [model.label_names[c] for c in classes])
    summary = write_report(out_dir, stats, classes, model.label_names, seen, kept, config, min_fraction,
                           extra=extra, importance=matter, importance_table=markdown)
    summary["empty_classes"] = empty
    return summary
