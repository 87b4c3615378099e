"""Interpretability of a feature from survey answers.

Questions 1, 3 and 4 are answered on a 1-5 scale and rescaled to q = (Q - 1) / 4 in
[0, 1]. One answer row gives

    I = (q1 * q3 + q4) / 2,

so I is in [0, 1]. A feature's I is averaged in two steps: first over each participant's
rows for that feature (a participant who rated it twice counts once), then over the
participants who rated it. Group means (see ``statistics``) average these per-feature
values, so every feature weighs the same whatever its number of raters.

An answer is valid when it is an integer from 1 to 5 ("3.0" counts as 3). Rows with an
invalid answer are flagged. By default they are excluded; with ``keep_invalid`` a row
whose answers are all numbers (e.g. 7 or 2.5) is kept with the numbers as they are, while
a row with a missing or non-numeric answer has no I and is excluded either way.
"""

import math
from collections import defaultdict
from dataclasses import dataclass

from inception_tools.analysis.answers import QUESTIONS

SCALE = (1, 5)


@dataclass(frozen=True)
class Rating:
    """The I of one valid (or kept) answer row."""

    participant: str
    feature: int
    value: float


@dataclass(frozen=True)
class FlaggedRow:
    """An answer row with at least one invalid answer."""

    path: str
    line: int
    participant: str
    feature: int
    problems: tuple  # e.g. ("question1='7' is outside 1-5",)
    kept: bool


def rescale(answer):
    """Map an answer on 1-5 to [0, 1]."""
    return (answer - SCALE[0]) / (SCALE[1] - SCALE[0])


def interpretability(answer1, answer3, answer4):
    """I = (q1*q3 + q4) / 2 of one row of answers on the 1-5 scale."""
    return (rescale(answer1) * rescale(answer3) + rescale(answer4)) / 2


def as_number(text):
    """The number written in ``text``, or None when it is missing or not a finite number."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def problem(question, text):
    """Why ``text`` is not a valid answer, or None when it is one."""
    value = as_number(text)
    if text == "":
        return f"{question} is missing"
    if value is None:
        return f"{question}={text!r} is not a number"
    if not value.is_integer():
        return f"{question}={text!r} is not an integer"
    if not SCALE[0] <= value <= SCALE[1]:
        return f"{question}={text!r} is outside {SCALE[0]}-{SCALE[1]}"
    return None


def rate(answers, keep_invalid=False):
    """Ratings of the usable answer rows and the flagged rows, in input order."""
    ratings, flagged = [], []
    for a in answers:
        problems = tuple(p for q in QUESTIONS if (p := problem(q, a.questions[q])))
        values = [as_number(a.questions[q]) for q in QUESTIONS]
        usable = not problems or (keep_invalid and None not in values)
        if problems:
            flagged.append(FlaggedRow(a.path, a.line, a.participant, a.feature, problems, usable))
        if usable:
            ratings.append(Rating(a.participant, a.feature, interpretability(*values)))
    return ratings, flagged


def by_participant(ratings):
    """participant -> {feature: mean I of that participant's rows for the feature}."""
    rows = defaultdict(lambda: defaultdict(list))
    for r in ratings:
        rows[r.participant][r.feature].append(r.value)
    return {p: {f: sum(v) / len(v) for f, v in features.items()} for p, features in rows.items()}


def by_feature(per_participant):
    """feature -> (mean over participants of their I, number of participants)."""
    values = defaultdict(list)
    for features in per_participant.values():
        for feature, value in features.items():
            values[feature].append(value)
    return {f: (sum(v) / len(v), len(v)) for f, v in values.items()}
