"""Importance tables made before the study runner kept their settings: adopted, or refused in one line.

A scan made by an earlier version left ``importance.csv`` and ``importance.json``
and no ``importance.settings.json``, so the runner alone would refuse the folder
(its settings unknown). Such a scan can cost hours (InceptionV1 over 50,000
images), and its summary does record what it depends on: the settings of
:func:`inception_tools.importance.run.settings` (model, layer, top-k, ablation,
pixel scaling, resize, images, their order, the fingerprint of the model file
and the images, a direction scan's basis), an estimated scan's ``estimator``,
the channels scored (their count; the table lists them) and a reliability
target. When every one of these is what this run would record, the folder is
adopted: the runner's manifest is written beside the table, and the runner
then reads the scan back as its own. Otherwise the run stops with one line
naming what differs, and nothing is written.
"""

import csv
import os

from inception_tools import layout
from inception_tools.errors import UserError
from inception_tools.manifest import differences, read_manifest

# The parts of importance.json's dict-valued settings that are settings (the rest is what the scan found).
RECORDED = {"basis": ("kind", "components", "seed", "sample"), "estimator": ("kind", "exact_fraction", "seed", "grows"),
            "until_reliable": ("target", "score", "chunk")}


def _settings_part(key, value):
    if key in RECORDED and isinstance(value, dict):
        return {k: value[k] for k in RECORDED[key] if k in value}
    return value


def expected(plan, config) -> dict:
    """What importance.json records of the settings of a scan of ``plan`` (:func:`.run.plan`) under ``config``."""
    wanted = {key: _settings_part(key, value) for key, value in plan.settings.items()}
    wanted["channels"] = list(plan.channels)
    wanted["until_reliable"] = None if config.until is None else {
        "target": config.until, "score": config.score, "chunk": config.chunk}
    return wanted


def recorded(summary: dict, table: str) -> dict:
    """The same settings as :func:`expected`, read from an old scan's summary and table."""
    found = {key: _settings_part(key, summary.get(key)) for key in summary if key not in ("channels", "until_reliable")}
    with open(table, newline="") as f:
        found["channels"] = [int(row["feature_ind"]) for row in csv.DictReader(f)]
    found["until_reliable"] = _settings_part("until_reliable", summary.get("until_reliable"))
    return found


def _span(channels):
    return f"{len(channels)} from {min(channels)} to {max(channels)}" if channels else "none"


def adopt(folder, manifest: dict, plan, config) -> bool:
    """Write ``manifest`` (the runner's settings) beside a table made before the runner, when its summary
    records this scan's settings.

    Args:
        folder: the :class:`inception_tools.runner.Folder` (its ``name`` the table's stem).
        manifest: the runner's settings of this run (:func:`inception_tools.runner.settings`).
        plan: :func:`inception_tools.importance.run.plan` of this run; config: its ImportanceConfig.

    Returns:
        True when the folder was adopted; False when there is nothing to adopt (no table and summary, or a
        manifest already there).

    Raises:
        UserError: the old scan was made with other settings (one line naming them).
    """
    table, summary = folder.file(layout.IMPORTANCE_TABLE), folder.file(layout.IMPORTANCE_SUMMARY)
    if os.path.exists(folder.file(layout.IMPORTANCE_SETTINGS)) or not (os.path.isfile(table)
                                                                       and os.path.isfile(summary)):
        return False
    try:
        found = recorded(read_manifest(summary), table)
    except (KeyError, ValueError, OSError) as e:
        raise UserError(f"{table} was made by an earlier version and cannot be read ({e}); delete it or choose "
                        "another output folder") from None
    wanted = expected(plan, config)
    found_channels, wanted_channels = found.pop("channels"), wanted.pop("channels")
    changed = differences(found, wanted)
    if found_channels != wanted_channels:
        changed.append(f"channels={_span(found_channels)} (now {_span(wanted_channels)})")
    if changed:
        raise UserError(f"{table} was made with {', '.join(changed)}; delete it or choose another output folder")
    folder.write_json(layout.IMPORTANCE_SETTINGS, manifest)
    return True
