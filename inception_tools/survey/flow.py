"""Where each participant is in the survey, and the rules for moving on.

A participant answers the features strictly in blind order. For the first
feature they have not finished, the stage is ``describe`` (Q1 and Q2 with only
the visualizations) until they save Q1/Q2, then ``rate`` (Q3-Q6 with the
dataset examples), then the next feature. Since that position is recomputed
from the stored answers, closing the browser or restarting the server resumes
exactly there.
"""

from inception_tools.survey import questions
from inception_tools.survey.store import AnswerConflict


class UnknownParticipant(Exception):
    """A name that was not given when the survey was started (HTTP 403)."""


class NotRevealed(Exception):
    """The dataset examples of a feature asked for before its Q1/Q2 are saved (HTTP 403)."""


class NoSuchFeature(Exception):
    """A position outside the blind order (HTTP 404)."""


class Survey:
    def __init__(self, plan, store, participants):
        self.plan = plan
        self.store = store
        self.participants = frozenset(participants)

    def check_participant(self, participant):
        if participant not in self.participants:
            raise UnknownParticipant(f"{participant!r} is not a participant of this survey")

    def current(self, participant):
        """The first feature ``participant`` has not finished, or None when all are done."""
        self.check_participant(participant)
        for feature in self.plan.features:
            if not self.store.answered(participant, feature.channel):
                return feature
        return None

    def state(self, participant):
        """What the page shows: position, stage and, once locked, the saved Q1/Q2."""
        feature = self.current(participant)
        state = {"participant": participant, "total": len(self.plan.features), "questions": questions.as_json()}
        if feature is None:
            return {**state, "stage": "done", "position": None}
        locked = self.store.locked(participant, feature.channel)
        stage = "describe" if locked is None else "rate"
        return {**state, "stage": stage, "position": feature.position, **(locked or {})}

    def _feature_in_turn(self, participant, position):
        feature = self.current(participant)
        if feature is None or feature.position != position:
            raise AnswerConflict("this is not the feature to answer now; reload the page")
        return feature

    def describe(self, participant, position, answers):
        """Lock Q1 (clarity) and Q2 (phrases) of the current feature."""
        feature = self._feature_in_turn(participant, position)
        question1 = questions.parse_rating(answers, questions.CLARITY.name)
        phrases = questions.parse_phrases(answers)
        self.store.lock(participant, feature.channel, question1, phrases)

    def rate(self, participant, position, answers):
        """Record Q3-Q6 of the current feature, completing its row."""
        feature = self._feature_in_turn(participant, position)
        ratings = {name: questions.parse_rating(answers, name) for name in questions.RATING_NAMES}
        self.store.record(participant, feature.channel, ratings)

    def image(self, participant, position, kind):
        """The PNG path of ``kind`` (``visualizations`` or ``examples``) at ``position``."""
        self.check_participant(participant)
        feature = self.plan.feature(position)
        if feature is None or kind not in ("visualizations", "examples"):
            raise NoSuchFeature(f"no {kind} at position {position}")
        if kind == "visualizations":
            return feature.visualization
        revealed = self.store.answered(participant, feature.channel) or self.store.locked(participant, feature.channel)
        if not revealed:
            raise NotRevealed("the dataset examples appear once the description is saved")
        return feature.examples
