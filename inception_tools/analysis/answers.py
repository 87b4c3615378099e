"""Reading the survey's answer CSVs for the analysis.

Each answer row must rate a channel of the importance table's model and layer;
every problem (missing file or column, a value that is not a number, a row for
another model or layer) is a one-line ``UserError`` naming the file and line.
The original study's answer files, without a ``participant`` column, read the
same as this toolkit's: the participant is then the file's stem. The CSV
plumbing is :mod:`inception_tools.tables`'.
"""

import os
from dataclasses import dataclass

from inception_tools.errors import UserError
from inception_tools.tables import parse_int, read_rows

ANSWER_COLUMNS = ("model", "layer", "neuron", "question1", "question3", "question4")
QUESTIONS = ("question1", "question3", "question4")


@dataclass(frozen=True)
class Answer:
    """One survey answer row; the rated questions are kept as the raw text."""

    path: str
    line: int
    participant: str
    feature: int
    questions: dict  # "question1"/"question3"/"question4" -> text


def unique_files(paths):
    """``(paths, warnings)``: each file once (compared by resolved path), a warning for each repeat."""
    kept, warnings, seen = [], [], set()
    for path in paths:
        key = os.path.realpath(path)
        if key in seen:
            warnings.append(f"warning: {path} is given more than once; its answers are counted once")
            continue
        seen.add(key)
        kept.append(path)
    return kept, warnings


def drop_repeats(answers):
    """``(answers, warnings)``: the first answer of each participant and feature, a warning naming the repeats."""
    kept, repeats, seen = [], [], set()
    for answer in answers:
        key = (answer.participant, answer.feature)
        if key in seen:
            repeats.append(answer)
            continue
        seen.add(key)
        kept.append(answer)
    warnings = []
    if repeats:
        first = repeats[0]
        warnings.append(f"warning: {len(repeats)} answer row(s) repeat a participant and feature already answered "
                        f"(first: {first.path} line {first.line}, {first.participant} on feature {first.feature}); "
                        "the first answer of each is used")
    return kept, warnings


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
