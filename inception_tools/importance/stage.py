"""The importance stage on the study runner: a pure scan, its files, and a folder that resumes.

:func:`compute` scans ``net.layer`` over a dataset under an
:class:`~inception_tools.importance.config.ImportanceConfig` and returns an
:class:`Importance`; it writes nothing unless the
:class:`~inception_tools.runner.Checkpoint` it is given has a folder (the
outcome store is then memory-mapped there, so a killed scan resumes: see
:mod:`.run` and :mod:`.estimated`). :func:`write` makes the files of a finished
scan, every one through the :class:`~inception_tools.runner.Folder`'s atomic
writers, named after the table (``{name}`` below; ``importance`` in a study):

- ``{name}.csv`` (:mod:`.table`) and ``{name}.json`` (the summary: settings,
  accuracy, reliability, ...);
- ``{name}.outcomes.npy`` and ``{name}.images.npz``, the per-image outcomes
  (:mod:`.store`; an exact or control-variate scan);
- ``{name}.first_order.npz``, an estimated scan's controls (:mod:`.estimated`);
- ``{name}.basis.npz``, a direction scan's principal components.

:func:`score_layer` gives the stage the folder of a CSV path through
:func:`inception_tools.runner.run`, the files named after the CSV's stem: the settings manifest
``{name}.settings.json`` (the config, the model, layer, pixel scaling and the
images' fingerprint), the lock ``{name}.lock``, the checkpoint ``{name}.partial/``;
a finished folder is read back (:func:`read`), one made with other settings is
refused in one line, and a table made before the runner kept its settings is
adopted when its summary records the same settings (:mod:`.legacy`).
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import os
from typing import Optional

import numpy as np

from inception_tools import layout, runner
from inception_tools.errors import UserError
from inception_tools.importance import legacy
from inception_tools.importance.run import dataset_fingerprint, exact, plan
from inception_tools.importance.store import OutcomeStore
from inception_tools.importance.table import COLUMNS, DIRECTION_COLUMNS, ESTIMATOR_COLUMNS
from inception_tools.tables import write_table

log = logging.getLogger(__name__)
INTEGER_COLUMNS = ("feature_ind", "newly_wrong", "newly_right", "exact_images")


@dataclasses.dataclass
class Importance:
    """A finished scan.

    Attributes:
        rows: the table's rows (dicts of the CSV's columns), in channel order.
        summary: ``importance.json``'s contents (settings, accuracy, reliability, ...).
        store: the per-image outcomes of the scored rows (:class:`~inception_tools.importance.store.OutcomeStore`;
            None for the first-order estimator, which ablates no image).
        directions: a direction scan's principal components (``kind``, ``vectors``, ``variances``,
            ``total_variance``, ``center``, ``mean``), None for channels.
        first_order: an estimated scan's first-order controls (``channels``, ``exact_columns`` and one
            [rows, images] array per measure), None for an exact scan.
    """

    rows: list
    summary: dict
    store: Optional[OutcomeStore]
    directions: Optional[dict] = None
    first_order: Optional[dict] = None

    def column(self, name):
        """One CSV column as a float array, in channel order."""
        return np.array([float(r[name]) for r in sorted(self.rows, key=lambda r: r["feature_ind"])])

    @property
    def columns(self):
        """Every numeric CSV column: name -> float array, in channel order."""
        return {name: self.column(name) for name in COLUMNS if name not in ("model", "layer")}


def compute(net, dataset, config, checkpoint=None, distribute=None, meta=None, report=None) -> Importance:
    """Score the channels (or principal components) ``config`` names of ``net.layer`` over ``dataset``.

    Args:
        net: a :class:`~inception_tools.surgery.Network` on the layer.
        dataset: the labelled images.
        config: an :class:`~inception_tools.importance.config.ImportanceConfig`.
        checkpoint: where the scan keeps its progress (:class:`inception_tools.runner.Checkpoint`; default: in
            memory, nothing written).
        distribute: optional ``engine -> engine`` wrapper whose ``fill`` spreads the work, e.g.
            :func:`inception_tools.scale.importance.distributor` (Ray).
        meta: extra entries for the summary (the data's source, ...).
        report: callable for one-line messages (default: this module's logger).

    Returns:
        :class:`Importance`.

    Raises:
        UserError: the layer, top-k, a channel or the components do not fit the model (before any pass).
    """
    checkpoint = checkpoint or runner.Checkpoint()
    report = report or log.info
    scan = plan(net, dataset, config)
    if config.estimator == "exact":
        rows, summary, store, directions = exact(net, scan, config, checkpoint, report, meta, distribute)
        return Importance(rows, summary, store, directions)
    from inception_tools.importance.estimated import estimate

    return Importance(*estimate(net, scan, config, checkpoint, report, meta, distribute))


def outputs(config) -> tuple:
    """The files :func:`write` makes for ``config`` (``{name}`` left for the runner to fill)."""
    names = [layout.IMPORTANCE_TABLE, layout.IMPORTANCE_SUMMARY]
    if config.estimator != "first-order":
        names += layout.IMPORTANCE_OUTCOMES
    if config.estimator != "exact":
        names.append(layout.IMPORTANCE_FIRST_ORDER)
    if config.basis is not None:
        names.append(layout.IMPORTANCE_DIRECTIONS)
    return tuple(names)


def _extra_columns(summary):
    return ([*ESTIMATOR_COLUMNS] if "estimator" in summary else []) + ([*DIRECTION_COLUMNS] if "basis" in summary else [])


def write(result: Importance, folder: runner.Folder) -> None:
    """The files of ``result`` (see the module docstring) into ``folder``, the table and summary last."""
    if result.directions is not None:
        with folder.open(layout.IMPORTANCE_DIRECTIONS, "wb") as f:
            np.savez(f, **result.directions)
    if result.first_order is not None:
        with folder.open(layout.IMPORTANCE_FIRST_ORDER, "wb") as f:
            np.savez(f, **result.first_order)
    if result.store is not None:
        result.store.save(folder, result.store.channels, result.store.n_images)
    with folder.temporary(layout.IMPORTANCE_TABLE) as tmp:
        write_table(tmp, COLUMNS + _extra_columns(result.summary),
                    sorted(result.rows, key=lambda r: r["feature_ind"]))
    folder.write_json(layout.IMPORTANCE_SUMMARY, result.summary)


def read(folder: runner.Folder) -> Importance:
    """The :class:`Importance` in ``folder`` (rows as :func:`compute` gives them, outcomes memory-mapped)."""
    table = folder.file(layout.IMPORTANCE_TABLE)
    summary = folder.read_json(layout.IMPORTANCE_SUMMARY)
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    counts = INTEGER_COLUMNS + (() if "estimator" in summary else ("importance",))
    for row in rows:
        row.update({key: int(row[key]) for key in counts if key in row})
    store = OutcomeStore.open(table) if os.path.isfile(folder.file(layout.IMPORTANCE_OUTCOMES[0])) else None
    arrays = {}
    for key, name in (("directions", layout.IMPORTANCE_DIRECTIONS), ("first_order", layout.IMPORTANCE_FIRST_ORDER)):
        if os.path.isfile(folder.file(name)):
            with np.load(folder.file(name), allow_pickle=False) as saved:
                arrays[key] = {k: saved[k] for k in saved.files}
    return Importance(rows, summary, store, **arrays)


STAGE = runner.Stage("importance", compute, write, outputs=outputs, read=read, manifest=layout.IMPORTANCE_SETTINGS,
                     partial=layout.IMPORTANCE_PARTIAL, lock=layout.IMPORTANCE_LOCK)


def inputs_identity(net, dataset) -> dict:
    """The inputs' part of the settings manifest: the model, the images (:func:`inception_tools.runner.identity`),
    the layer, the pixel scaling and the fingerprint of the model file and images."""
    return runner.identity(net.model, dataset, layer=net.layer, pixel_scaling=net.pixel_scaling,
                           fingerprint=dataset_fingerprint(net.model, dataset))


def score_layer(net, dataset, config, out_csv, meta=None, report=None, distribute=None, reads=()) -> Importance:
    """The scan of :func:`compute` through the study runner, into the folder of ``out_csv``, every file named
    after its stem (``X.csv``: ``X.json``, ``X.settings.json``, ...; see the module docstring).

    Args:
        out_csv: the table to write (``.csv``).
        meta, report, distribute: as :func:`compute`.
        reads: files the scan reads (the model file, the data), which its outputs must not replace.

    Returns:
        :class:`Importance` (read back when the folder holds it finished).

    Raises:
        UserError: ``out_csv`` does not end in ``.csv``, bad settings for the model, other settings in the
            folder, an output that is a folder or an input, another process writing the folder.
    """
    folder, base = os.path.split(os.fspath(out_csv))
    stem, suffix = os.path.splitext(base)
    if suffix != ".csv" or not stem:
        raise UserError(f"the importance table {out_csv} must be a .csv file")
    scan = plan(net, dataset, config)  # the model's checks, before the folder is made
    where = runner.Folder(folder or os.curdir, stem)
    for output in outputs(config):
        if os.path.isdir(where.file(output)):
            raise UserError(f"cannot write {where.file(output)}: it is a folder")
    identity = inputs_identity(net, dataset)
    legacy.adopt(where, runner.settings(STAGE, config, identity), scan, config)
    return runner.run(STAGE, config, where.path, inputs_identity=identity, reads=reads, name=stem, net=net,
                      dataset=dataset, meta=meta, report=report, distribute=distribute)
