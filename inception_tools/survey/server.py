"""The survey over HTTP, on 127.0.0.1 only (stdlib ``http.server``).

Routes (``?participant=NAME`` on every GET but the page and its assets):

- ``GET /`` and ``GET /assets/survey.{js,css}``: the single-page survey;
- ``GET /api/state``: position, stage and questions (see ``flow.Survey.state``);
- ``GET /image/visualizations/<position>``, ``GET /image/examples/<position>``;
- ``POST /api/describe`` ``{participant, position, question1, text_question}``;
- ``POST /api/rate`` ``{participant, position, question3, ..., question6}``.

Errors are JSON ``{"error": "..."}``: 400 for an invalid answer or request
(nothing is written), 403 for an unknown participant or examples not yet
revealed, 404 for an unknown path or position, 409 for an answer out of turn,
500 (and the server goes on) for anything else, such as an answer that cannot
be written. A client that stops sending mid-request is dropped after
``REQUEST_TIMEOUT`` seconds (408 when its body is short).
Nothing served names a channel, a group, an importance or a rank.
"""

import contextlib
import importlib.resources
import json
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

from inception_tools.survey.flow import NoSuchFeature, NotRevealed, UnknownParticipant
from inception_tools.survey.questions import InvalidAnswer
from inception_tools.survey.store import AnswerConflict

HOST = "127.0.0.1"
MAX_BODY_BYTES = 16_384
REQUEST_TIMEOUT = 10  # seconds a request may take to arrive
ASSETS = {"survey.js": "text/javascript", "survey.css": "text/css"}
ERROR_STATUS = {
    InvalidAnswer: HTTPStatus.BAD_REQUEST,
    UnknownParticipant: HTTPStatus.FORBIDDEN,
    NotRevealed: HTTPStatus.FORBIDDEN,
    NoSuchFeature: HTTPStatus.NOT_FOUND,
    AnswerConflict: HTTPStatus.CONFLICT,
}


class SurveyServer(ThreadingHTTPServer):
    """Serves one ``flow.Survey``; ``port=0`` picks a free port."""

    daemon_threads = True

    def __init__(self, survey, port=0):
        self.survey = survey
        super().__init__((HOST, port), SurveyHandler)

    def url(self, participant):
        return f"http://{HOST}:{self.server_port}/?participant={quote(participant)}"


def _web_file(name):
    return (importlib.resources.files("inception_tools") / "web" / "survey" / name).read_bytes()


class RequestTimeout(Exception):
    """A request body that did not arrive in time (HTTP 408)."""


ERROR_STATUS[RequestTimeout] = HTTPStatus.REQUEST_TIMEOUT


class SurveyHandler(BaseHTTPRequestHandler):
    server_version = "inception-tools-survey"
    timeout = REQUEST_TIMEOUT  # socket timeout of each connection

    def log_message(self, format, *args):
        """Quiet: the terminal running the survey is not a request log."""

    def do_GET(self):
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        participant = parse_qs(url.query).get("participant", [""])[0]
        survey = self.server.survey
        with self._errors_as_json():
            if url.path == "/":
                self._send(_web_file("index.html"), "text/html; charset=utf-8")
            elif parts[0] == "assets" and len(parts) == 2 and parts[1] in ASSETS:
                self._send(_web_file(parts[1]), ASSETS[parts[1]] + "; charset=utf-8")
            elif url.path == "/api/state":
                self._send_json(survey.state(participant))
            elif parts[0] == "image" and len(parts) == 3:
                path = survey.image(participant, _position(parts[2]), parts[1])
                with open(path, "rb") as f:
                    self._send(f.read(), "image/png")
            else:
                raise NoSuchFeature(f"no page {url.path}")

    def do_POST(self):
        actions = {"/api/describe": self.server.survey.describe, "/api/rate": self.server.survey.rate}
        with self._errors_as_json():
            action = actions.get(urlsplit(self.path).path)
            if action is None:
                raise NoSuchFeature(f"no action {self.path}")
            answers = self._read_json()
            action(str(answers.get("participant", "")), _position(answers.get("position")), answers)
            self._send_json({"ok": True})

    def _read_json(self):
        length = self.headers.get("Content-Length", "")
        length = int(length) if length.isdigit() else 0
        if not 0 < length <= MAX_BODY_BYTES:
            raise InvalidAnswer("the request needs a JSON body of at most 16 kB")
        try:
            raw = self.rfile.read(length)
        except TimeoutError:
            self.close_connection = True
            raise RequestTimeout(f"the request body did not arrive within {REQUEST_TIMEOUT} s") from None
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            raise InvalidAnswer("the request body is not JSON") from None
        if not isinstance(body, dict):
            raise InvalidAnswer("the request body must be a JSON object")
        return body

    @contextlib.contextmanager
    def _errors_as_json(self):
        """A known survey error becomes its HTTP status with a JSON message."""
        try:
            yield
        except tuple(ERROR_STATUS) as e:
            status = next(status for kind, status in ERROR_STATUS.items() if isinstance(e, kind))
            self._send_json({"error": str(e)}, status)
        except Exception as e:  # noqa: BLE001 -- the participant gets an answer, the server goes on
            self._send_json({"error": f"the server could not do this: {e}"}, HTTPStatus.INTERNAL_SERVER_ERROR)

    def _send_json(self, value, status=HTTPStatus.OK):
        self._send(json.dumps(value).encode(), "application/json", status)

    def _send(self, body, content_type, status=HTTPStatus.OK):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


def _position(value):
    """A position from a URL part or JSON: a positive int, else InvalidAnswer."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise InvalidAnswer(f"position must be a positive integer, not {value!r}")
