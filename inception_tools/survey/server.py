"""The survey over HTTP, on 127.0.0.1 only (stdlib ``http.server``).

Routes (``?participant=NAME&token=SECRET`` on every GET but the page and its assets):

- ``GET /`` and ``GET /assets/survey.{js,css}``: the single-page survey;
- ``GET /api/state``: position, stage and questions (see ``flow.Survey.state``);
- ``GET /image/visualizations/<position>``, ``GET /image/examples/<position>``;
- ``POST /api/describe`` ``{participant, token, position, question1, text_question}``;
- ``POST /api/rate`` ``{participant, token, position, question3, ..., question6}``.

Access. A participant is known by an unguessable token (``secrets.token_urlsafe``,
kept in ``answers.tokens.json``, see :mod:`.tokens`) that their printed URL carries;
a name alone answers nothing. A POST must be ``Content-Type: application/json`` (a
cross-site form or ``text/plain`` fetch cannot send that without a CORS preflight,
which this server never grants), and every request's ``Host`` and (when sent)
``Origin`` must be this server's own address (no other site, no DNS rebinding).

Errors are JSON ``{"error": "..."}``: 400 for an invalid answer or request
(nothing is written), 403 for an unknown participant, a wrong token, a foreign
origin or examples not yet revealed, 404 for an unknown path or position, 409
for an answer out of turn, 415 for a POST that is not JSON, 500 (and the server
goes on) for anything else, such as an answer that cannot be written. A client
that stops sending mid-request is dropped after ``REQUEST_TIMEOUT`` seconds
(408 when its body is short). Nothing served names a channel, a group, an
importance or a rank.
"""

import contextlib
import hmac
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
MAX_POSITION_DIGITS = 9
LISTEN_BACKLOG = 128  # pending connections (http.server's default of 5 resets a burst of 20 clients)
REQUEST_TIMEOUT = 10  # seconds a request may take to arrive
ASSETS = {"survey.js": "text/javascript", "survey.css": "text/css"}
ERROR_STATUS = {
    InvalidAnswer: HTTPStatus.BAD_REQUEST,
    UnknownParticipant: HTTPStatus.FORBIDDEN,
    NotRevealed: HTTPStatus.FORBIDDEN,
    NoSuchFeature: HTTPStatus.NOT_FOUND,
    AnswerConflict: HTTPStatus.CONFLICT,
}


class Forbidden(Exception):
    """A request from another origin or host, or with a wrong token (HTTP 403)."""


class NotJson(Exception):
    """A POST whose body is not declared ``application/json`` (HTTP 415)."""


class SurveyServer(ThreadingHTTPServer):
    """Serves one ``flow.Survey``; ``port=0`` picks a free port; ``tokens``: participant -> secret."""

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, survey, port=0, tokens=None, on_close=None):
        self.survey = survey
        self.tokens = dict(tokens or {})
        self._on_close = on_close
        super().__init__((HOST, port), SurveyHandler)

    def url(self, participant):
        token = self.tokens.get(participant, "")
        return f"http://{HOST}:{self.server_port}/?participant={quote(participant)}&token={quote(token)}"

    def authorize(self, participant, token):
        """Raise ``Forbidden`` unless ``token`` is ``participant``'s (an unknown name: ``UnknownParticipant``)."""
        self.survey.check_participant(participant)
        expected = self.tokens.get(participant)
        if expected is not None and not hmac.compare_digest(str(token).encode(), expected.encode()):
            raise Forbidden("this link is not valid for this participant: use the URL the survey printed")

    def own_hosts(self):
        return {f"{HOST}:{self.server_port}", f"localhost:{self.server_port}"}

    def server_close(self):
        super().server_close()
        if self._on_close is not None:
            self._on_close()
            self._on_close = None


def _web_file(name):
    return (importlib.resources.files("inception_tools") / "web" / "survey" / name).read_bytes()


class RequestTimeout(Exception):
    """A request body that did not arrive in time (HTTP 408)."""


ERROR_STATUS[RequestTimeout] = HTTPStatus.REQUEST_TIMEOUT
ERROR_STATUS[Forbidden] = HTTPStatus.FORBIDDEN
ERROR_STATUS[NotJson] = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class SurveyHandler(BaseHTTPRequestHandler):
    server_version = "inception-tools-survey"
    timeout = REQUEST_TIMEOUT  # socket timeout of each connection

    def log_message(self, format, *args):
        """Quiet: the terminal running the survey is not a request log."""

    def do_GET(self):
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        query = parse_qs(url.query)
        participant = query.get("participant", [""])[0]
        survey = self.server.survey
        with self._errors_as_json():
            self._check_origin()
            if url.path.startswith(("/api/", "/image/")):
                self.server.authorize(participant, query.get("token", [""])[0])
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
            self._check_origin()
            action = actions.get(urlsplit(self.path).path)
            if action is None:
                raise NoSuchFeature(f"no action {self.path}")
            answers = self._read_json()
            participant = str(answers.get("participant", ""))
            self.server.authorize(participant, answers.get("token", ""))
            action(participant, _position(answers.get("position")), answers)
            self._send_json({"ok": True})

    def _check_origin(self):
        """Refuse a request addressed to another host name (DNS rebinding) or sent by another site's page."""
        own = self.server.own_hosts()
        if self.headers.get("Host", "") not in own:
            raise Forbidden("this survey answers only requests addressed to its own address")
        origin = self.headers.get("Origin")
        if origin is not None and origin not in {f"http://{host}" for host in own}:
            raise Forbidden(f"requests from another site ({origin[:100]}) are refused")

    def _read_json(self):
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise NotJson("the request body must be sent as Content-Type: application/json")
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
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) <= MAX_POSITION_DIGITS:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= MAX_POSITION_DIGITS:
        return int(value)
    raise InvalidAnswer(f"position must be a positive integer, not {str(value)[:20]!r}")
