"""Blind web survey of a study's features (see ``docs/CONTRACTS.md``).

``make_server(study_dir, participants)`` returns a ``SurveyServer`` bound to
127.0.0.1; call ``serve_forever()`` on it and send each participant to
``server.url(name)``. Modules: ``features`` (the blind order and images),
``questions`` (wording and answer checks), ``store`` (the answers CSV and the
locked Q1/Q2), ``flow`` (where a participant is), ``server`` (HTTP).
"""

import os

import filelock

from inception_tools.errors import UserError
from inception_tools.layout import answers_csv, answers_lock
from inception_tools.survey.features import read_plan
from inception_tools.survey.flow import Survey
from inception_tools.survey.questions import InvalidAnswer, check_text
from inception_tools.survey.server import SurveyServer
from inception_tools.survey.store import ANSWER_COLUMNS, FORMULA_START, AnswerStore
from inception_tools.survey.tokens import participant_tokens

__all__ = ["ANSWER_COLUMNS", "make_server", "default_answers_path"]


def default_answers_path(study_dir):
    return answers_csv(study_dir)


def make_server(study_dir, participants, port=0, answers=None):
    """A survey server for ``participants`` (names), answers in ``answers`` (default ``<study>/answers.csv``)."""
    names = [p.strip() for p in participants]
    if not names or not all(names):
        raise UserError("give at least one participant name, none empty")
    if len(set(names)) != len(names):
        raise UserError("a participant name is given twice")
    for name in names:
        try:
            check_text(name, f"participant name {name!r}")
        except InvalidAnswer as e:
            raise UserError(str(e)) from None
    if not 0 <= port <= 65535:
        raise UserError(f"port must be 0-65535, not {port}")
    for name in names:
        if name.startswith(FORMULA_START):
            raise UserError(f"participant name {name!r} starts with {name[0]!r}, which a spreadsheet reads as a formula")
    plan = read_plan(study_dir)
    path = answers or default_answers_path(study_dir)
    lock = single_writer(path)
    try:
        store = AnswerStore(path, plan.model, plan.layer)
        tokens = participant_tokens(path, names)
        return SurveyServer(Survey(plan, store, names), port, tokens=tokens, on_close=lock.release)
    except OSError as e:
        lock.release()
        raise UserError(f"cannot listen on {port}: {e}") from None
    except BaseException:
        lock.release()
        raise


def single_writer(answers_path):
    """Hold the lock of ``answers_path`` (``answers.lock``): one server writes a study's answers.

    Two servers on the same answers would each keep their own copy in memory and overwrite the
    other's rows; a second server is refused in one line instead.
    """
    lock = filelock.FileLock(answers_lock(os.path.abspath(answers_path)))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise UserError(f"another survey server is already writing {answers_path}; serve every participant from "
                        "that one server (it takes several participants) or stop it first") from None
    except OSError as e:
        raise UserError(f"cannot lock {answers_path}: {e.strerror or e}") from None
    return lock
