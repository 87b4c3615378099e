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
