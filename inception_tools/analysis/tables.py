"""Reading the study's CSV tables: channel importance, survey answers and groups.

Each reader checks the columns it needs and turns every problem (missing file, missing
column, a value that is not a number, a file for another model or layer) into a one-line
``UserError`` naming the file and line. Extra columns are ignored, so the original
study's files read the same as this toolkit's own: importance files with only
``model,layer,feature_ind,importance`` and a leading unnamed pandas index column, and
answer files without a ``participant`` column (the participant is then the file's stem).

Channels are ranked when the importance file is read: rank 1 is the most important
channel; equal importances are ordered by channel index, smallest first.
"""

import csv
import math
import os
from collections import Counter
from dataclasses import dataclass

import numpy as np

from inception_tools.errors import UserError

IMPORTANCE_COLUMNS = ("model", "layer", "feature_ind", "importance")
ANSWER_COLUMNS = ("model", "layer", "neuron", "question1", "question3", "question4")
QUESTIONS = ("question1", "question3", "question4")
GROUP_COLUMNS = ("feature_ind", "group")
GROUP_NAMES = ("top", "middle")


@dataclass(frozen=True)
class ImportanceTable:
    """One layer's channel importances, most important channel first."""

    path: str
    model: str
    layer: str
    channels: np.ndarray  # int64 channel indices in rank order
    importance: np.ndarray  # float64, aligned with ``channels``: the ``score`` (larger = more important)
    score: str = "importance"  # the measure ranked by (inception_tools.importance.measures)

    def rank_of(self):
        """Channel index -> rank (1 = most important)."""
        return {int(c): r for r, c in enumerate(self.channels, start=1)}

    def importance_of(self):
        """Channel index -> importance."""
        return {int(c): float(v) for c, v in zip(self.channels, self.importance)}


@dataclass(frozen=True)
class Answer:
    """One survey answer row; the rated questions are kept as the raw text."""

    path: str
    line: int
    participant: str
    feature: int
    questions: dict  # "question1"/"question3"/"question4" -> text


def read_rows(path, required):
    """(line number, row) pairs of a CSV file that must have the ``required`` columns."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None:
                raise UserError(f"{path}: file is empty")
            missing = [c for c in required if c not in reader.fieldnames]
            if missing:
                raise UserError(f"{path}: missing column(s) {', '.join(missing)}")
            return [(reader.line_num, clean(row)) for row in reader]
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror or e}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise UserError(f"{path} is not a readable CSV file: {e}") from None


def clean(row):
    """Strip cells; short rows give empty cells."""
    return {k: (v or "").strip() for k, v in row.items() if k is not None}


def parse_int(text, what, path, line):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value.is_integer():
        raise UserError(f"{path}: line {line}: {what} {text!r} is not an integer")
    return int(value)


def parse_finite(text, what, path, line):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UserError(f"{path}: line {line}: {what} {text!r} is not a finite number")
    return value


def read_importance(path, score="importance"):
    """Read an importance CSV of one model and layer into a :class:`ImportanceTable` ranked by ``score``.

    ``score`` names a measure of :mod:`inception_tools.importance.measures` (``importance``, the
    study's, or ``delta-logprob``, ``kl``, ``l1``); its column must be in the file.
    """
    from inception_tools.importance.measures import measure

    chosen = measure(score)
    rows = read_rows(path, IMPORTANCE_COLUMNS + ((chosen.column,) if chosen.column != "importance" else ()))
    if not rows:
        raise UserError(f"{path}: no channels")
    layers = sorted({(row["model"], row["layer"]) for _, row in rows})
    if len(layers) > 1:
        names = ", ".join(f"{m}/{l}" for m, l in layers)
        raise UserError(f"{path}: holds several model/layer pairs ({names}); give one layer per file")
    channels, importance = [], []
    for line, row in rows:
        channels.append(parse_int(row["feature_ind"], "feature_ind", path, line))
        importance.append(chosen.sign * parse_finite(row[chosen.column], chosen.column, path, line))
    repeated = [c for c, n in Counter(channels).items() if n > 1]
    if repeated:
        raise UserError(f"{path}: channel {min(repeated)} appears more than once")
    channels, importance = np.array(channels, np.int64), np.array(importance, np.float64)
    order = np.lexsort((channels, -importance))
    model, layer = layers[0]
    return ImportanceTable(os.fspath(path), model, layer, channels[order], importance[order], score)


def read_answers(paths, table):
    """Read answer CSVs; every row must be for ``table``'s model and layer and channels."""
    known = set(table.rank_of())
    answers = []
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        for line, row in read_rows(path, ANSWER_COLUMNS):
            if (row["model"], row["layer"]) != (table.model, table.layer):
                raise UserError(
                    f"{path}: line {line} rates {row['model']}/{row['layer']}, "
                    f"but the importance file is for {table.model}/{table.layer}"
                )
            feature = parse_int(row["neuron"], "neuron", path, line)
            if feature not in known:
                raise UserError(f"{path}: line {line}: feature {feature} is not in {table.path}")
            participant = row.get("participant") or stem
            questions = {q: row[q] for q in QUESTIONS}
            answers.append(Answer(os.fspath(path), line, participant, feature, questions))
    if not answers:
        raise UserError("the answer files hold no answers")
    return answers


def read_groups(path, table):
    """Channel index -> "top"/"middle" from a groups CSV of channels in ``table``."""
    known = set(table.rank_of())
    groups = {}
    for line, row in read_rows(path, GROUP_COLUMNS):
        channel = parse_int(row["feature_ind"], "feature_ind", path, line)
        if row["group"] not in GROUP_NAMES:
            raise UserError(f"{path}: line {line}: group {row['group']!r} is not 'top' or 'middle'")
        if channel in groups:
            raise UserError(f"{path}: channel {channel} appears more than once")
        if channel not in known:
            raise UserError(f"{path}: line {line}: channel {channel} is not in {table.path}")
        groups[channel] = row["group"]
    return groups
