"""What a class-conditional activation study takes in: the classes studied and the importance scans given.

Teague's method ("Exploring Interpretability", 2024) on any model of the
toolkit: keep the images each class gets right with high confidence, collect
every unit's per-class mean, variance and activation count
(:mod:`.collect`), compare the classes by the distance of their mean and count
vectors and the overlap of their contributing sets (:mod:`.compare`), and
write the tables, heatmaps and page (:mod:`.report`). Given importance scans
of some of the layers, it adds what the classes' images lose when each unit
is ablated (:mod:`.importance`). :mod:`.stage` puts it together.
"""

import json
import os

from inception_tools.blocks.build import parse_classes, real_classes
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
