"""Blind web survey of a study's features (see ``docs/CONTRACTS.md``).

``make_server(study_dir, participants)`` returns a ``SurveyServer`` bound to
127.0.0.1; call ``serve_forever()`` on it and send each participant to
``server.url(name)``. Modules: ``features`` (the blind order and images),
``questions`` (wording and answer checks), ``store`` (the answers CSV and the
locked Q1/Q2), ``flow`` (where a participant is), ``server`` (HTTP).
"""

from inception_tools.errors import UserError
from inception_tools.layout import answers_csv
from inception_tools.survey.features import read_plan
from inception_tools.survey.flow import Survey
from inception_tools.survey.questions import InvalidAnswer, check_text
from inception_tools.survey.server import SurveyServer
from inception_tools.survey.store import ANSWER_COLUMNS, AnswerStore

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
    plan = read_plan(study_dir)
    store = AnswerStore(answers or default_answers_path(study_dir), plan.model, plan.layer)
    try:
        return SurveyServer(Survey(plan, store, names), port)
    except OSError as e:
        raise UserError(f"cannot listen on {port}: {e}") from None
