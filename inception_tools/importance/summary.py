"""importance.json, the summary beside an importance CSV, and its reliability entry."""

import json
import os

from inception_tools import layout
from inception_tools.atomic import atomic_open
from inception_tools.importance import reliability as rel
from inception_tools.importance.store import OutcomeStore
from inception_tools.manifest import read_json_object


def read_summary(csv_path):
    """The summary dict beside ``csv_path``, or ``{}`` when there is none."""
    path = layout.summary_json(csv_path)
    return read_json_object(path, "an importance summary") if os.path.isfile(path) else {}


def update_reliability(csv_path, splits=20, seed=0, resamples=1000, top=None):
    """Recompute the reliability of every measure from the outcomes beside ``csv_path``; record it.

    Returns:
        The reliability report (see :func:`inception_tools.importance.reliability.assess`).
    """
    summary = read_summary(csv_path)
    if "estimator" in summary:
        from inception_tools.importance.estimated import reassess

        rel.check_group_size(top, summary.get("channels", 0))  # before anything is computed or written
        report = reassess(csv_path, splits, seed, resamples, top)
    else:
        store = OutcomeStore.open(csv_path)
        rel.check_group_size(top, len(store.channels))  # before anything is computed or written
        report, _ = rel.assess(store, splits, seed, resamples, top)
    summary["reliability"] = report
    with atomic_open(layout.summary_json(csv_path)) as f:
        json.dump(summary, f, indent=1)
    return report


def score_warning(csv_path, score):
    """The one-line warning of :func:`.reliability.warning` for ranking ``csv_path`` by ``score``, or None."""
    report = read_summary(csv_path).get("reliability")
    return rel.warning(report, score) if isinstance(report, dict) else None
