"""importance.json, the summary beside an importance CSV, and its reliability entry."""

import json
import os

from inception_tools.atomic import atomic_open
from inception_tools.errors import UserError
from inception_tools.importance import reliability as rel
from inception_tools.importance.store import OutcomeStore


def summary_path(csv_path):
    return os.path.splitext(os.fspath(csv_path))[0] + ".json"


def read_summary(csv_path):
    """The summary dict beside ``csv_path``, or ``{}`` when there is none."""
    path = summary_path(csv_path)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            summary = json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"{path} is not a readable importance summary: {e}") from None
    if not isinstance(summary, dict):
        raise UserError(f"{path} is not an importance summary (not a JSON object)")
    return summary


def update_reliability(csv_path, splits=20, seed=0, resamples=1000, top=None):
    """Recompute the reliability of every measure from the outcomes beside ``csv_path``; record it.

    Returns:
        The reliability report (see :func:`inception_tools.importance.reliability.assess`).
    """
    store = OutcomeStore.open(csv_path)
    report, _ = rel.assess(store, splits, seed, resamples, top)
    summary = read_summary(csv_path)
    summary["reliability"] = report
    with atomic_open(summary_path(csv_path)) as f:
        json.dump(summary, f, indent=1)
    return report


def score_warning(csv_path, score):
    """The one-line warning of :func:`.reliability.warning` for ranking ``csv_path`` by ``score``, or None."""
    report = read_summary(csv_path).get("reliability")
    return rel.warning(report, score) if isinstance(report, dict) else None
