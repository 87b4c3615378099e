"""The survey's six questions and the checks every answer passes before it is stored.

The wording is the study's own (its original tkinter survey script), with
"can't" written with a plain apostrophe. Q1 and Q2 are asked with only the four
feature visualizations on screen; they lock once saved. Q3-Q6 are asked after
the eight strongest dataset examples are revealed. Every rating is an integer
from 1 to 5; anything else is refused, never coerced.
"""

import re
import unicodedata
from dataclasses import asdict, dataclass

SCALE = (1, 2, 3, 4, 5)
MAX_PHRASES_CHARS = 500


@dataclass(frozen=True)
class Question:
    name: str  # its column in answers.csv
    text: str
    low: str = ""  # what 1 means, when the question says so
    high: str = ""  # what 5 means


CLARITY = Question(
    "question1",
    "On a scale from 1 to 5, how clear are the objects on the 4 feature visualization images? "
    "If you can't recognise any objects on the images, respond as 1:",
)
PHRASES = Question(
    "text_question",
    "Which words or phrases are best describing objects on the feature visualization images. "
    "List 0-4 phrases through comma:",
)
RATINGS = (
    Question(
        "question3",
        "On a scale from 1 to 5, how closely do the dataset examples resemble the phrases you put "
        "in the previous question? Respond 1 if you didn't write any phrases:",
    ),
    Question(
        "question4",
        "On a scale from 1 to 5, how coherent are the examples?",
        low="they have nothing in common",
        high="they all show the same concept",
    ),
    Question(
        "question5",
        "On a scale from 1 to 5, do you agree that feature visualizations and dataset examples "
        "show 2 distinct concepts?",
        low="There clearly aren't two objects",
        high="There clearly are two objects",
    ),
    Question(
        "question6",
        "On a scale from 1 to 5, do you agree that feature visualizations and dataset examples "
        "show 3 distinct concepts?",
        low="There clearly aren't three objects",
        high="There clearly are three objects",
    ),
)
RATING_NAMES = tuple(q.name for q in RATINGS)


class InvalidAnswer(ValueError):
    """An answer that must not be recorded (the server replies 400)."""


def parse_rating(answers, name):
    """``answers[name]`` as an int in 1..5: an int, or a string of one digit 1-5."""
    value = answers.get(name)
    if isinstance(value, str) and re.fullmatch(r"[1-5]", value.strip()):
        return int(value)
    if type(value) is int and value in SCALE:
        return value
    raise InvalidAnswer(f"{name} must be an integer from 1 to 5, not {value!r}")


def check_text(text, what):
    """Raise ``InvalidAnswer`` unless ``text`` can be stored: valid Unicode (no lone
    surrogate such as JSON's ``"\\ud800"``) without control characters."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidAnswer(f"{what} is not valid text (it holds a lone surrogate)") from None
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidAnswer(f"{what} holds a control character")
    return text


def parse_phrases(answers):
    """The free-text phrases on one line (whitespace collapsed); may be empty."""
    value = answers.get(PHRASES.name, "")
    if not isinstance(value, str):
        raise InvalidAnswer(f"{PHRASES.name} must be text")
    phrases = check_text(" ".join(value.split()), PHRASES.name)
    if len(phrases) > MAX_PHRASES_CHARS:
        raise InvalidAnswer(f"{PHRASES.name} is longer than {MAX_PHRASES_CHARS} characters")
    return phrases


def as_json():
    """The questions for the page, which builds its forms from them."""
    return {
        "describe": [asdict(CLARITY), asdict(PHRASES)],
        "rate": [asdict(q) for q in RATINGS],
    }
