"""Survey answers on disk, safe against crashes, restarts and double submissions.

Two files, both replaced atomically on every change (a temporary file moved
into place), so a reader never sees half a row:

- the answers CSV (``ANSWER_COLUMNS``): one row per feature a participant
  finished, appended in the order they were given;
- ``<answers>.locked.json``: Q1 and Q2 of the features whose dataset examples a
  participant has already seen but not yet rated. Q1/Q2 lock when saved; this
  file keeps them locked across a server restart. An entry is dropped once its
  row is in the CSV, which is written first: a crash in between leaves a stale
  entry that the CSV row overrides.

Free text that starts like a spreadsheet formula (``= + - @``, tab, CR) is
written to the CSV with a leading ``'`` (:func:`spreadsheet_safe`).

Rows of other models or layers in the same CSV are kept and ignored. Both
files are checked when the store opens: the CSV through
:func:`inception_tools.tables.read_rows` (a byte order mark is fine, as in the
analysis), and every locked text must be storable (see
:func:`~inception_tools.survey.questions.check_text`), so a bad entry is one
line at start-up rather than a feature that can never be rated.
"""

import csv
import io
import json
import os
import threading

from inception_tools.atomic import atomic_open
from inception_tools.errors import UserError
from inception_tools.layout import locked_json
from inception_tools.survey.questions import InvalidAnswer, check_text
from inception_tools.tables import parse_int, read_csv

ANSWER_COLUMNS = (
    "model", "layer", "neuron", "question1", "text_question",
    "question3", "question4", "question5", "question6", "participant",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula
LOCKED_KEYS = ("model", "layer", "participant", "neuron", "question1", "text_question")


class AnswerConflict(Exception):
    """An answer out of turn: already locked, already recorded, or rated before it was locked."""


class AnswerStore:
    """The answers of one study (``model``, ``layer``) in the CSV at ``path``."""

    def __init__(self, path, model, layer):
        self.path = path
        self.locked_path = locked_json(path)
        self.model = model
        self.layer = layer
        self._mutex = threading.Lock()
        self._answered = self._read_answered()
        self._locked = self._read_locked()

    def _read_answered(self):
        if not os.path.isfile(self.path):
            return set()
        columns, rows = read_csv(self.path, ANSWER_COLUMNS)
        if columns != ANSWER_COLUMNS:
            raise UserError(f"{self.path} is not a survey answers file (columns {','.join(ANSWER_COLUMNS)})")
        return {
            (row["participant"], parse_int(row["neuron"], "neuron", self.path, line))
            for line, row in rows
            if (row["model"], row["layer"]) == (self.model, self.layer)
        }

    def _read_locked(self):
        if not os.path.isfile(self.locked_path):
            return []
        try:
            with open(self.locked_path, encoding="utf-8") as f:
                locked = json.load(f)
        except (OSError, ValueError) as e:
            raise UserError(f"{self.locked_path} is not valid JSON: {e}") from None
        if not isinstance(locked, list) or not all(
            isinstance(entry, dict) and all(key in entry for key in LOCKED_KEYS) for entry in locked
        ):
            raise UserError(f"{self.locked_path} is not a list of locked answers ({', '.join(LOCKED_KEYS)})")
        for entry in locked:
            try:
                check_text(str(entry["participant"]), "participant")
                check_text(str(entry["text_question"]), "text_question")
            except InvalidAnswer as e:
                raise UserError(f"{self.locked_path}: the entry of feature {entry['neuron']} cannot be stored "
                                f"({e}); remove it by hand") from None
        return locked

    def _find_locked(self, participant, channel):
        for entry in self._locked:
            if (entry["model"], entry["layer"], entry["participant"], entry["neuron"]) == (
                self.model, self.layer, participant, channel,
            ):
                return entry
        return None

    def answered(self, participant, channel):
        with self._mutex:
            return (participant, channel) in self._answered

    def locked(self, participant, channel):
        """``{"question1": int, "text_question": str}`` once Q1/Q2 are locked and not yet rated, else None."""
        with self._mutex:
            entry = self._find_locked(participant, channel)
            if entry is None or (participant, channel) in self._answered:
                return None
            return {"question1": entry["question1"], "text_question": entry["text_question"]}

    def lock(self, participant, channel, question1, text_question):
        """Store Q1 and Q2 for good; they cannot be changed afterwards."""
        with self._mutex:
            if (participant, channel) in self._answered or self._find_locked(participant, channel):
                raise AnswerConflict("the description of this feature is already saved and cannot be changed")
            self._locked.append({
                "model": self.model, "layer": self.layer, "participant": participant, "neuron": channel,
                "question1": question1, "text_question": text_question,
            })
            self._write_locked()

    def record(self, participant, channel, ratings):
        """Append the feature's full answer (locked Q1/Q2 plus ``ratings`` Q3-Q6) to the CSV."""
        with self._mutex:
            if (participant, channel) in self._answered:
                raise AnswerConflict("this feature is already answered")
            entry = self._find_locked(participant, channel)
            if entry is None:
                raise AnswerConflict("save the description (questions 1 and 2) first")
            row = {
                "model": self.model, "layer": self.layer, "neuron": channel,
                "question1": entry["question1"], "text_question": entry["text_question"],
                **ratings, "participant": participant,
            }
            self._append_row(row)
            self._answered.add((participant, channel))
            self._locked.remove(entry)
            self._write_locked()

    def _append_row(self, row):
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=ANSWER_COLUMNS, lineterminator="\n")
        if os.path.isfile(self.path):
            with open(self.path, newline="", encoding="utf-8") as f:
                earlier = f.read()
            text.write(earlier if earlier.endswith("\n") else earlier + "\n")
        else:
            writer.writeheader()
        writer.writerow({**row, "text_question": spreadsheet_safe(row["text_question"])})
        with atomic_open(self.path, "w", newline="", encoding="utf-8") as f:
            f.write(text.getvalue())

    def _write_locked(self):
        with atomic_open(self.locked_path, "w", encoding="utf-8") as f:
            json.dump(self._locked, f, indent=1)


def spreadsheet_safe(text):
    """``text`` with a leading ``'`` when it starts like a formula (``=cmd|...``), so a spreadsheet
    opening answers.csv shows it as text instead of running it. Escaped when the row is written;
    the locked JSON and the page keep the text as typed."""
    return "'" + text if text.startswith(FORMULA_START) else text
