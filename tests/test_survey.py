"""The blind survey: answer rules over HTTP, storage on disk, resuming, and the page in a browser."""

import csv
import json
import os
import re
import threading
import urllib.error
import urllib.request

import pytest

from browser import chromium, chromium_missing_reason, write_fake_study
from inception_tools.cli import build_parser
from inception_tools.errors import UserError
from inception_tools.survey import ANSWER_COLUMNS, make_server

# Distinctive channel numbers, so a leak of one into the page would be noticed.
SURVEYED = (517, 623, 748, 809, 931, 954)
N_CHANNELS = 1000
RATINGS = {"question3": 3, "question4": 4, "question5": 1, "question6": 2}


@pytest.fixture
def study(tmp_path):
    return write_fake_study(tmp_path / "study", N_CHANNELS, imaged=SURVEYED, surveyed=SURVEYED)


def blind_order(study):
    with open(os.path.join(study, "groups.csv"), newline="") as f:
        return [int(r["feature_ind"]) for r in sorted(csv.DictReader(f), key=lambda r: int(r["order"]))]


@pytest.fixture
def start(study):
    """Start a survey server on a free port; every one started is stopped after the test."""
    servers = []

    def start_server(participants=("alice", "bob")):
        server = make_server(study, participants)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server

    yield start_server
    for server in servers:
        stop(server)


def stop(server):
    server.shutdown()
    server.server_close()


def request(server, path, body=None):
    """(status, parsed JSON or raw bytes) of a GET, or of a POST when ``body`` is given."""
    url = f"http://127.0.0.1:{server.server_port}{path}"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            status, raw, kind = response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as e:
        status, raw, kind = e.code, e.read(), e.headers["Content-Type"]
    return status, json.loads(raw) if kind == "application/json" else raw


def auth(server, participant="alice"):
    """The query string that names ``participant`` with their token (as their printed URL does)."""
    return f"participant={participant}&token={server.tokens.get(participant, '')}"


def describe(server, position, question1=4, text="red dog, fur", participant="alice"):
    body = {"participant": participant, "token": server.tokens.get(participant, ""), "position": position,
            "question1": question1, "text_question": text}
    return request(server, "/api/describe", body)


def rate(server, position, participant="alice", **ratings):
    return request(server, "/api/rate", {"participant": participant, "token": server.tokens.get(participant, ""),
                                         "position": position, **RATINGS, **ratings})


def state(server, participant="alice"):
    return request(server, f"/api/state?{auth(server, participant)}")[1]


def answer_rows(study):
    with open(os.path.join(study, "answers.csv"), newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == ANSWER_COLUMNS
        return list(reader)


def test_an_answered_feature_is_one_csv_row_in_the_schema(study, start):
    server = start()
    assert describe(server, 1, question1=5, text='a "red", dog\n  fur') == (200, {"ok": True})
    assert rate(server, 1, question6=5) == (200, {"ok": True})
    assert answer_rows(study) == [{
        "model": "InceptionV1", "layer": "mixed5a", "neuron": str(blind_order(study)[0]),
        "question1": "5", "text_question": 'a "red", dog fur',
        "question3": "3", "question4": "4", "question5": "1", "question6": "5", "participant": "alice",
    }]
    assert state(server)["position"] == 2


@pytest.mark.parametrize("bad", [0, 6, "abc", 3.5, "3.0", True, None, "6"])
def test_ratings_outside_1_to_5_are_refused_and_nothing_is_written(study, start, bad):
    server = start()
    status, reply = describe(server, 1, question1=bad)
    assert status == 400 and "question1" in reply["error"]
    assert not os.path.exists(os.path.join(study, "answers.locked.json"))
    assert state(server)["stage"] == "describe"
    assert describe(server, 1) == (200, {"ok": True})
    status, reply = rate(server, 1, question4=bad)
    assert status == 400 and "question4" in reply["error"]
    assert not os.path.exists(os.path.join(study, "answers.csv"))
    assert state(server)["stage"] == "rate"


def test_the_description_locks_once_saved(start):
    server = start()
    describe(server, 1, question1=2, text="stripes")
    status, _ = describe(server, 1, question1=5, text="something else")
    assert status == 409
    current = state(server)
    assert (current["stage"], current["question1"], current["text_question"]) == ("rate", 2, "stripes")


def test_a_locked_description_survives_a_server_restart(study, start):
    server = start()
    describe(server, 1, question1=2, text="stripes")
    stop(server)
    server = start()
    current = state(server)
    assert (current["position"], current["stage"], current["question1"]) == (1, "rate", 2)
    assert describe(server, 1)[0] == 409
    rate(server, 1)
    assert [(r["question1"], r["text_question"]) for r in answer_rows(study)] == [("2", "stripes")]


def test_a_returning_participant_resumes_at_the_first_unanswered_feature(study, start):
    server = start()
    for position in (1, 2):
        describe(server, position)
        rate(server, position)
    stop(server)
    server = start()
    assert (state(server)["position"], state(server)["stage"]) == (3, "describe")
    assert state(server, "bob")["position"] == 1


def test_answers_out_of_turn_are_refused(start):
    server = start()
    assert rate(server, 1)[0] == 409  # rated before the description is saved
    assert describe(server, 2)[0] == 409  # not the current feature
    assert describe(server, "x")[0] == 400


def test_unknown_participants_are_refused(study, start):
    server = start(["alice"])
    assert request(server, f"/api/state?{auth(server, 'mallory')}")[0] == 403
    assert request(server, "/api/state")[0] == 403
    assert describe(server, 1, participant="mallory")[0] == 403
    assert request(server, f"/image/visualizations/1?{auth(server, 'mallory')}")[0] == 403
    assert not os.path.exists(os.path.join(study, "answers.csv"))


def test_dataset_examples_appear_only_after_the_description(study, start):
    server = start()
    assert request(server, f"/image/examples/1?{auth(server)}")[0] == 403
    describe(server, 1)
    status, image = request(server, f"/image/examples/1?{auth(server)}")
    channel = blind_order(study)[0]
    with open(os.path.join(study, "examples", "mixed5a", f"channel_{channel:04d}_top.png"), "rb") as f:
        assert (status, image) == (200, f.read())
    assert request(server, f"/image/examples/2?{auth(server)}")[0] == 403
    assert request(server, f"/image/visualizations/7?{auth(server)}")[0] == 404


def test_the_survey_needs_participants_and_every_image(study, tmp_path):
    with pytest.raises(UserError, match="participant"):
        make_server(study, [" "])
    with pytest.raises(UserError, match="twice"):
        make_server(study, ["alice", "alice"])
    os.remove(os.path.join(study, "visualizations", "mixed5a", f"channel_{SURVEYED[2]:04d}.png"))
    with pytest.raises(UserError, match=f"channel_{SURVEYED[2]:04d}.png is missing"):
        make_server(study, ["alice"])
    with pytest.raises(UserError, match="groups.csv not found"):
        make_server(write_fake_study(tmp_path / "no_groups", 4), ["alice"])


def assert_blind(text):
    """No channel number, group, importance or rank in what the browser received."""
    for channel in SURVEYED:
        assert not re.search(rf"(?<!\d)0?{channel}(?!\d)", text), f"channel {channel} leaked"
    for word in ("top", "middle", "importance", "rank", "channel"):
        assert not re.search(rf"\b{word}\b", text, re.IGNORECASE), f"{word!r} leaked"


def answer_in_page(page, question1, text, ratings):
    page.check(f"#question1-{question1}")
    page.fill("#text_question", text)
    page.click("#save-description")
    page.wait_for_selector("#rate:not([hidden])")
    assert page.is_disabled("#question1-1") and page.is_disabled("#text_question")
    page.wait_for_function("document.getElementById('examples').naturalWidth > 0")
    assert_blind(page.content())
    for name, value in ratings.items():
        page.check(f"#{name}-{value}")
    page.click("#submit-ratings")


@pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason()))
def test_survey_in_a_browser(study, start):
    server = start()
    second = {"question3": 5, "question4": 2, "question5": 4, "question6": 1}
    with chromium() as browser:
        page = browser.new_page()
        received, errors = [], []
        page.on("request", lambda r: received.append(r.url))
        page.on("response", lambda r: received.append(r.text()) if "/api/" in r.url else None)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(server.url("alice"))
        page.wait_for_selector("#progress:has-text('Feature 1 of 6')")
        assert page.is_hidden("#rate") and not any("/image/examples/" in u for u in received)
        assert_blind(page.content())
        answer_in_page(page, 4, "red dog, fur", RATINGS)
        page.wait_for_selector("#progress:has-text('Feature 2 of 6')")
        answer_in_page(page, 2, "stripes", second)
        page.wait_for_selector("#progress:has-text('Feature 3 of 6')")

        base = f"http://127.0.0.1:{server.server_port}"
        for bad in (0, 6):
            body = {"participant": "alice", "token": server.tokens["alice"], "position": 3, "question1": bad,
                    "text_question": "x"}
            assert page.request.post(f"{base}/api/describe", data=body).status == 400

        page.reload()
        page.wait_for_selector("#progress:has-text('Feature 3 of 6')")
        assert page.is_enabled("#question1-1") and page.is_hidden("#rate")
        assert_blind(page.content() + "\n".join(received))
        assert errors == []

    order = blind_order(study)
    assert answer_rows(study) == [
        {"model": "InceptionV1", "layer": "mixed5a", "neuron": str(order[0]), "question1": "4",
         "text_question": "red dog, fur", **{k: str(v) for k, v in RATINGS.items()}, "participant": "alice"},
        {"model": "InceptionV1", "layer": "mixed5a", "neuron": str(order[1]), "question1": "2",
         "text_question": "stripes", **{k: str(v) for k, v in second.items()}, "participant": "alice"},
    ]


def test_command_takes_repeated_participants_and_refuses_a_study_without_groups(tmp_path):
    argv = ["survey", "--study", os.fspath(write_fake_study(tmp_path / "s", 4)), "--participant", "a",
            "--participant", "b", "--port", "0"]
    args = build_parser().parse_args(argv)
    assert args.participant == ["a", "b"]
    with pytest.raises(UserError, match="groups.csv not found"):
        args.func(args)


def test_text_that_cannot_be_stored_is_refused_and_nothing_locks(study, start):
    # Before: "cat \ud800 dog" was locked, then every rating of the feature failed with no response.
    server = start()
    for bad in ("cat \ud800 dog", "bell\x07"):
        status, body = describe(server, 1, text=bad)
        assert status == 400 and "text_question" in body["error"]
    assert state(server)["stage"] == "describe"
    assert not os.path.exists(os.path.join(study, "answers.locked.json"))
    assert describe(server, 1, text="cat, dog") == (200, {"ok": True})
    assert rate(server, 1) == (200, {"ok": True})


def test_a_locked_entry_that_cannot_be_stored_is_one_line_at_start(study):
    entry = {"model": "InceptionV1", "layer": "mixed5a", "participant": "alice", "neuron": SURVEYED[0],
             "question1": 3, "text_question": "cat \ud800 dog"}
    with open(os.path.join(study, "answers.locked.json"), "w") as f:
        json.dump([entry], f)
    with pytest.raises(UserError, match="answers.locked.json: the entry of feature .* cannot be stored"):
        make_server(study, ["alice"])


def test_an_answers_file_with_a_byte_order_mark_is_resumed(study, start):
    # Before: refused as "not a survey answers file", though analyze reads it.
    order = blind_order(study)
    row = f"InceptionV1,mixed5a,{order[0]},4,dog,3,4,1,2,alice\n"
    with open(os.path.join(study, "answers.csv"), "w", encoding="utf-8-sig") as f:
        f.write(",".join(ANSWER_COLUMNS) + "\n" + row)
    server = start()
    assert state(server)["position"] == 2
    assert describe(server, 2) == (200, {"ok": True}) and rate(server, 2) == (200, {"ok": True})
    assert [r["neuron"] for r in answer_rows_bom(study)] == [str(order[0]), str(order[1])]


def answer_rows_bom(study):
    with open(os.path.join(study, "answers.csv"), newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_a_short_body_times_out_with_408(start, monkeypatch):
    import socket

    from inception_tools.survey.server import SurveyHandler

    monkeypatch.setattr(SurveyHandler, "timeout", 0.5)
    server = start()
    with socket.create_connection(("127.0.0.1", server.server_port)) as sock:
        host = f"127.0.0.1:{server.server_port}".encode()
        sock.sendall(b"POST /api/describe HTTP/1.1\r\nHost: " + host +
                     b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\"")
        sock.settimeout(10)  # before: no answer ever came
        assert sock.recv(100).startswith(b"HTTP/1.0 408")
    assert describe(server, 1) == (200, {"ok": True})


def test_a_failed_write_is_answered_with_500_and_the_server_goes_on(study, start, monkeypatch):
    from inception_tools.survey.store import AnswerStore

    server = start()
    assert describe(server, 1) == (200, {"ok": True})

    def full_disk(self, row):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(AnswerStore, "_append_row", full_disk)
    status, body = rate(server, 1)
    assert status == 500 and "No space left" in body["error"]
    monkeypatch.undo()
    assert rate(server, 1) == (200, {"ok": True})


@pytest.mark.parametrize("name", ["caf\udce9", "tab\tname"])
def test_participant_names_must_be_storable(study, name):
    with pytest.raises(UserError, match="participant name"):
        make_server(study, [name])


def raw_request(server, method, path, body=b"", headers=()):
    """(status, JSON reply) of a request with exactly ``headers`` (plus Host and Content-Length)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    conn.request(method, path, body=body, headers=dict(headers))
    response = conn.getresponse()
    status, raw = response.status, response.read()
    conn.close()
    return status, json.loads(raw) if raw.startswith(b"{") else raw


def test_a_second_server_on_the_same_answers_is_refused_in_one_line(study, start):
    first = start()
    with pytest.raises(UserError, match="another survey server is already writing"):
        make_server(study, ["bob"])  # before: both ran, each overwrote the other's rows
    assert describe(first, 1)[0] == 200 and rate(first, 1)[0] == 200
    stop(first)
    second = start(("bob",))  # the lock goes with the first server
    assert describe(second, 1, participant="bob")[0] == 200


def test_a_name_without_its_token_answers_nothing(study, start):
    server = start()
    assert len(server.tokens["alice"]) >= 32 and server.tokens["alice"] != server.tokens["bob"]
    assert f"token={server.tokens['alice']}" in server.url("alice")
    assert request(server, "/api/state?participant=alice")[0] == 403  # before: 200, the name was enough
    assert request(server, f"/api/state?participant=alice&token={server.tokens['bob']}")[0] == 403
    body = {"participant": "alice", "token": "guess", "position": 1, "question1": 4, "text_question": "x"}
    assert request(server, "/api/describe", body)[0] == 403
    assert request(server, "/image/visualizations/1?participant=alice")[0] == 403
    assert not os.path.exists(os.path.join(study, "answers.csv"))
    stop(server)
    again = start()  # a restarted server keeps each participant's URL
    assert again.tokens == server.tokens
    assert oct(os.stat(os.path.join(study, "answers.tokens.json")).st_mode & 0o777) == "0o600"


def test_cross_site_posts_are_refused(study, start):
    server = start()
    body = json.dumps({"participant": "alice", "token": server.tokens["alice"], "position": 1, "question1": 4,
                       "text_question": "forged"}).encode()
    own = f"127.0.0.1:{server.server_port}"
    for headers, status in (
        ({"Content-Type": "text/plain"}, 415),  # a form or no-preflight fetch from any page
        ({"Content-Type": "application/json", "Origin": "http://evil.example"}, 403),
        ({"Content-Type": "application/json", "Origin": "null"}, 403),
        ({"Content-Type": "application/json", "Host": "evil.example"}, 403),  # DNS rebinding
    ):
        headers = {"Host": own, **headers}
        assert raw_request(server, "POST", "/api/describe", body, headers)[0] == status
    assert not os.path.exists(os.path.join(study, "answers.locked.json"))
    ok = {"Host": own, "Content-Type": "application/json; charset=utf-8", "Origin": f"http://{own}"}
    assert raw_request(server, "POST", "/api/describe", body, ok)[0] == 200


def test_formula_text_is_escaped_in_the_csv_and_kept_as_typed_on_the_page(study, start):
    server = start()
    assert describe(server, 1, text="=cmd|' /C calc'!A0")[0] == 200
    assert state(server)["text_question"] == "=cmd|' /C calc'!A0"
    assert rate(server, 1)[0] == 200
    assert answer_rows(study)[0]["text_question"] == "'=cmd|' /C calc'!A0"  # before: stored raw
    with pytest.raises(UserError, match="formula"):
        make_server(study, ["=HYPERLINK(1)"])


def test_a_huge_position_is_one_400_line(start):
    server = start()
    assert describe(server, "9" * 5000)[0] == 400  # before: 500 with Python's int() message
    status, reply = request(server, f"/image/visualizations/{'9' * 5000}?{auth(server)}")
    assert status == 400 and len(reply["error"]) < 120


def test_twenty_five_clients_at_once_all_get_an_answer(start):
    import concurrent.futures
    import socket

    server = start()
    sockets = [socket.create_connection(("127.0.0.1", server.server_port)) for _ in range(25)]
    try:
        def one(_):
            return request(server, f"/api/state?{auth(server)}")[0]

        with concurrent.futures.ThreadPoolExecutor(25) as pool:
            assert list(pool.map(one, range(25))) == [200] * 25
    finally:
        for sock in sockets:
            sock.close()
    assert server.request_queue_size >= 64  # before: 5, bursts of 20 clients were reset
