"""Hostile probes of the toolkit on the embedded model, in a temporary folder (issue 21, round 2).

    PYTHONPATH=. python scripts/probe_hostile.py [--keep DIR] [--only FAMILY]

(``PYTHONPATH=/other/checkout`` probes that checkout's code, e.g. the code before the fixes.)

Families: bad values, foreign and malformed files, outputs that are inputs, kills and
restarts, concurrency, the survey over HTTP (two servers, cross-origin POSTs, ...) and
the Python API. Each probe states what must hold; the script prints one line per probe
and the totals, and exits 1 when any probe fails. A few minutes of CPU on the embedded model.
"""

import argparse
import contextlib
import csv
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

import numpy as np
from PIL import Image

RESULTS = []
PY = sys.executable


def probe(family, name):
    def wrap(fn):
        def run():
            try:
                detail = fn()
                ok = detail is not False
                detail = "" if detail in (None, True, False) else str(detail)
            except AssertionError as e:
                ok, detail = False, f"assertion: {e}"
            except Exception as e:  # noqa: BLE001 -- a probe that crashes is a failed probe
                ok, detail = False, f"{type(e).__name__}: {e}"
            RESULTS.append((family, name, ok, detail))
            print(f"{'PASS' if ok else 'FAIL'} [{family}] {name}{': ' + detail if detail else ''}", flush=True)
        run.family = family
        PROBES.append(run)
        return run
    return wrap


PROBES = []


def cli(*argv):
    """(exit code, stdout, stderr) of the command line run in this process (TensorFlow imported once)."""
    from inception_tools.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as e:
            code = e.code
    return code, out.getvalue(), err.getvalue()


def refused(code, err, words):
    """A refusal: exit 2, one line (argparse: its usage and one error line), no traceback, ``words`` said."""
    assert code == 2, f"exit {code}: {err[-300:]}"
    assert "Traceback" not in err, err[-300:]
    assert words in err, f"{words!r} not in {err[-300:]!r}"
    return err.strip().splitlines()[-1][:150]


def digest(folder):
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(folder)):
        for name in sorted(files):
            path = os.path.join(root, name)
            h.update(path.encode())
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


W = None  # the work folder


def path(*parts):
    return os.path.join(W, *parts)


# ---------------------------------------------------------------- setup

def setup():
    os.makedirs(path("scan"), exist_ok=True)
    code, _, err = cli("importance", "--limit", "60", "--out", path("scan", "importance.csv"))
    assert code == 0, err
    code, _, err = cli("select", "--importance", path("scan", "importance.csv"), "--top", "6", "--middle", "6",
                       "--out", path("scan", "groups.csv"))
    assert code == 0, err


# ---------------------------------------------------------------- bad values

BAD_VALUES = [
    (["importance", "--seed", "-5"], "argument --seed"),
    (["importance", "--shuffle-seed", "99999999999"], "argument --shuffle-seed"),
    (["importance", "--basis-seed", "-1"], "argument --basis-seed"),
    (["classes", "--seed", "-1"], "argument --seed"),
    (["basis", "--seed", "4294967296"], "argument --seed"),
    (["select", "--importance", "x.csv", "--out", "y.csv", "--seed", "-3"], "argument --seed"),
    (["importance", "--top-k", "10"], "top_k must be an integer from 1 to 9"),
    (["importance", "--top-k", "0"], "argument --top-k"),
    (["basis", "--top-k", "11"], "top_k must be an integer from 1 to 9"),
    (["importance", "--limit", "0"], "argument --limit"),
    (["basis", "--ablation-images", "0"], "argument --ablation-images"),
    (["basis", "--ablation-images", "-4"], "argument --ablation-images"),
    (["basis", "--vectors", "97"], "the basis has vectors 1-96"),
    (["basis", "--vectors", "0-3"], "numbered from 1"),
    (["blocks", "--image", "IMG", "--n-classes", "50"], "n_classes must be from 1 to 10"),
    (["blocks", "--image", "IMG", "--n-classes", "0"], "argument --n-classes"),
    (["importance", "--layer", "mixed3a_pre_relu"], "give mixed3a"),
    (["importance", "--layer", "conv2d0_pre_relu"], "give conv2d0"),
    (["importance", "--layer", "softmax2"], "is the model's output"),
    (["basis", "--layer", "mixed4a_pre_relu"], "give mixed4a"),
    (["basis", "--layer", "softmax2"], "is the model's output"),
    (["classes", "--layers", "mixed3a_pre_relu"], "give mixed3a"),
    (["classes", "--layers", "mixed3a,conv2d0,mixed3a"], "mixed3a twice"),
    (["classes", "--layers", ",,"], "names no layer"),
    (["examples", "--layer", "softmax2"], "no softmax2_pre_relu"),
    (["visualize", "--layer", "softmax2", "--channels", "0"], "no softmax2_pre_relu"),
    (["run", "--layer", "softmax2"], "is the model's output"),
    (["importance", "--model", "embedded-mlp", "--layer", "dense2_pre_relu"], "give dense2"),
    (["importance", "--layer", "mixed3a", "--channels", "90-100"], "channel 100 out of range"),
]


def bad_value_probe(argv, words):
    def fn():
        out = path("bad", str(abs(hash(tuple(argv)))))
        args = [a if a != "IMG" else path("digit.png") for a in argv]
        if "--out" not in args:
            args += ["--out", out]
        code, _, err = cli(*args, "--limit", "30") if args[0] not in ("select", "blocks", "visualize") else cli(*args)
        line = refused(code, err, words)
        assert not os.path.exists(out), f"{out} was created"
        return line
    return fn


for argv, words in BAD_VALUES:
    probe("bad values", " ".join(argv))(bad_value_probe(argv, words))


@probe("bad values", "reliability --top 500 / --top 0 / --top 48 on 96 channels")
def _():
    csv_path = path("scan", "importance.csv")
    before = digest(path("scan"))
    refused(*cli("reliability", "--importance", csv_path, "--top", "500")[::2], "from 1 to 48")
    refused(*cli("reliability", "--importance", csv_path, "--top", "0")[::2], "argument --top")
    assert digest(path("scan")) == before, "the scan's files changed"
    code, out, err = cli("reliability", "--importance", csv_path, "--top", "48", "--resamples", "50")
    assert code == 0 and "nan" not in out.lower(), out + err
    return "bad sizes change nothing; 48 prints no NaN"


@probe("bad values", "reliability of a 2-channel scan: no impossible values, says too few")
def _():
    out = path("two", "importance.csv")
    code, stdout, err = cli("importance", "--limit", "12", "--channels", "0-1", "--out", out)
    assert code == 0, err
    code, stdout, err = cli("reliability", "--importance", out, "--splits", "1", "--resamples", "20")
    assert code == 0, err
    summary = json.load(open(path("two", "importance.json")))
    for name, entry in summary["reliability"]["measures"].items():
        assert 0 <= entry["spearman_brown"] <= 1, (name, entry["spearman_brown"])
        assert entry["images_for_0.9"] >= 4, (name, entry["images_for_0.9"])
    assert "too few channels" in stdout and "one split" in stdout and "nan" not in stdout.lower(), stdout
    return "clamped; notes printed"


@probe("bad values", "visualize --size 2000 refused with an estimate, --size 28 renders")
def _():
    import inception_tools
    # Code without the estimate would grow to 24 GB on a shared machine: never run it there. (An import
    # alone is no test: an editable install's finder serves a missing submodule from another checkout.)
    if not os.path.isfile(os.path.join(os.path.dirname(inception_tools.__file__), "render_memory.py")):
        raise AssertionError("no render memory estimate in this code (not run: it grew to 24 GB)")
    from inception_tools.memory import available_bytes
    if available_bytes() > 30e9:
        return "skipped: more than 30 GB available here"
    code, _, err = cli("visualize", "--channels", "0", "--size", "2000", "--out", path("viz2000"))
    line = refused(code, err, "GB (estimate)")
    assert not os.path.exists(path("viz2000"))
    code, _, err = cli("visualize", "--channels", "0", "--steps", "2", "--out", path("viz28"))
    assert code == 0, err
    return line


# ---------------------------------------------------------------- foreign and malformed files

def write_npz(name, labels, n=None, compressed=False, rows=None):
    n = len(labels) if n is None else n
    p = path(name)
    data = rows if rows is not None else np.zeros((n, 12288), np.uint8)
    (np.savez_compressed if compressed else np.savez)(p, data=data, labels=np.asarray(labels))
    return p


@probe("foreign files", "embedded .npz with digit 0 labels is read, label 10 refused in one line")
def _():
    ok = write_npz("digits.npz", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] * 2)
    code, _, err = cli("examples", "--data", ok, "--resize", "center-crop", "--out", path("ex0"))
    assert code == 0, err
    bad = write_npz("digits10.npz", [10, 1])
    return refused(*cli("examples", "--data", bad, "--resize", "center-crop", "--out", path("ex1"))[::2],
                   "outside the classes 0..9")


@probe("foreign files", "truncated .npz data member is one line")
def _():
    p = path("short.npz")
    with zipfile.ZipFile(p, "w") as z:
        with z.open("data.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": (9, 12288)})
            f.write(bytes(12288 * 3))
        with z.open("labels.npy", "w") as f:
            np.save(f, np.arange(9) % 10)
    return refused(*cli("examples", "--data", p, "--resize", "center-crop", "--out", path("ex2"))[::2], "truncated")


@probe("foreign files", ".npz whose data is an object array / not a zip / a bare .npy")
def _():
    np.savez(path("obj.npz"), data=np.array([object()] * 2, dtype=object), labels=np.array([1, 2]))
    refused(*cli("examples", "--data", path("obj.npz"), "--out", path("ex3"))[::2], "Object arrays")
    with open(path("junk.npz"), "wb") as f:
        f.write(b"not a zip at all")
    refused(*cli("examples", "--data", path("junk.npz"), "--out", path("ex3"))[::2], "cannot read")
    np.save(path("bare.npy"), np.zeros(3))
    os.replace(path("bare.npy"), path("bare.npz"))
    return refused(*cli("examples", "--data", path("bare.npz"), "--out", path("ex3"))[::2], "single .npy")


@probe("foreign files", "16-bit grey and float TIFF digits arrive at their grey level")
def _():
    from inception_tools.data.folder import decode_rgb
    folder = path("wide")
    os.makedirs(folder, exist_ok=True)
    Image.fromarray(np.full((28, 28), 40000, np.uint16)).save(os.path.join(folder, "3_a.png"))
    Image.fromarray(np.full((28, 28), 0.75, np.float32), "F").save(os.path.join(folder, "4_b.tif"))
    a = np.asarray(decode_rgb(os.path.join(folder, "3_a.png")))[0, 0, 0]
    b = np.asarray(decode_rgb(os.path.join(folder, "4_b.tif")))[0, 0, 0]
    assert (a, b) == (156, 191), (a, b)
    return f"40000/65535 -> {a}, 0.75 -> {b}"


@probe("foreign files", "a .npz of 3000 compressed images with --limit 4 reads 4 rows")
def _():
    import tracemalloc
    p = path("many.npz")
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("data.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": (3000, 12288)})
            for _ in range(30):
                f.write(bytes(12288 * 100))
        with z.open("labels.npy", "w") as f:
            np.save(f, np.arange(3000) % 10)
    import inception_tools as it
    model = it.load_model("embedded")
    tracemalloc.start()
    ds = it.load_dataset(p, model, limit=4, resize="center-crop")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(ds) == 4 and peak < 4e6, peak
    return f"traced peak {peak / 1e6:.1f} MB for a 37 MB array"


@probe("foreign files", "render cache: a truncated and an empty PNG are rendered again")
def _():
    import inception_tools as it
    from inception_tools.blocks.render_cache import RenderSettings, Unit, ensure_renders
    model = it.load_model("embedded")
    root = path("cache")
    settings = RenderSettings(28, 2)
    units = [Unit.channel_of(1), Unit.channel_of(2)]
    paths, _ = ensure_renders(model, "mixed3a", units, settings, root=root)
    with open(paths["channel_0001"], "r+b") as f:
        f.truncate(40)
    open(paths["channel_0002"], "wb").close()
    _, made = ensure_renders(model, "mixed3a", units, settings, root=root)
    assert made == 2, made
    return "2 of 2 re-rendered"


@probe("foreign files", "--limit on the class-sorted digits keeps every digit, recorded")
def _():
    out = path("lim", "importance.csv")
    code, _, err = cli("importance", "--limit", "50", "--channels", "0-3", "--out", out)
    assert code == 0, err
    summary = json.load(open(path("lim", "importance.json")))
    assert summary.get("limit") == 50 and "class-balanced" in summary.get("subset", ""), summary.get("subset")
    import inception_tools as it
    ds = it.load_dataset("embedded", it.load_model("embedded"), limit=50)
    counts = np.bincount(ds.labels, minlength=10).tolist()
    assert counts == [5] * 10, counts
    return f"digits per class {counts}"


# ---------------------------------------------------------------- outputs that are inputs

@probe("output is input", "select --out = --importance (and via a symlink, and via ../)")
def _():
    scan = path("scan", "importance.csv")
    before = digest(path("scan"))
    os.symlink(scan, path("link.csv"))
    for out in (scan, path("link.csv"), path("scan", "..", "scan", "importance.csv")):
        refused(*cli("select", "--importance", scan, "--top", "4", "--middle", "4", "--out", out)[::2],
                "is also the importance table")
    refused(*cli("select", "--importance", scan, "--top", "4", "--middle", "4",
                 "--out", path("scan", "importance.json"))[::2], "is also the importance summary")
    assert digest(path("scan")) == before
    return "3 spellings refused; nothing changed"


@probe("output is input", "importance --out over the study's groups.csv / over its --data .npz")
def _():
    before = digest(path("scan"))
    refused(*cli("importance", "--limit", "20", "--out", path("scan", "groups.csv"))[::2],
            "would replace the study's survey groups")
    npz = write_npz("asdata.npz", list(range(10)) * 2)
    with open(npz, "rb") as f:
        data_before = f.read()
    code, _, err = cli("importance", "--data", npz, "--resize", "center-crop", "--out", npz)
    refused(code, err, "is also the dataset")
    with open(npz, "rb") as f:
        assert f.read() == data_before
    assert digest(path("scan")) == before
    return "both refused"


@probe("output is input", "importance --out over a CSV made with other settings (as run refuses)")
def _():
    folder = path("other")
    shutil.copytree(path("scan"), folder)
    before = digest(folder)
    refused(*cli("importance", "--limit", "30", "--out", os.path.join(folder, "importance.csv"))[::2],
            "n_images=60 (now 30)")
    refused(*cli("importance", "--limit", "60", "--ablation", "zero", "--out",
                 os.path.join(folder, "importance.csv"))[::2], "ablation='mean' (now 'zero')")
    assert digest(folder) == before
    return "refused, files unchanged"


@probe("output is input", "analyze: the same answers file twice and repeated rows warn; --out over an input refused")
def _():
    answers = path("ans.csv")
    rows = [["model", "layer", "neuron", "question1", "text_question", "question3", "question4", "question5",
             "question6", "participant"]]
    groups = list(csv.DictReader(open(path("scan", "groups.csv"))))
    for g in groups:
        rows.append(["embedded", "mixed3a", g["feature_ind"], "4", "x", "3", "4", "1", "2", "p1"])
    rows.append(rows[1])  # a repeated row
    with open(answers, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    code, out, err = cli("analyze", "--importance", path("scan", "importance.csv"), "--answers", answers,
                         "--answers", answers, "--groups", path("scan", "groups.csv"), "--resamples", "100",
                         "--out", path("an"))
    assert code == 0, err
    assert "more than once" in err and "repeat a participant and feature" in err, err
    os.makedirs(path("an2"), exist_ok=True)
    shutil.copy(answers, path("an2", "report.md"))
    refused(*cli("analyze", "--importance", path("scan", "importance.csv"), "--answers", path("an2", "report.md"),
                 "--out", path("an2"))[::2], "is also the answers file")
    return "two warnings; clobber refused"


# ---------------------------------------------------------------- kills and restarts

def run_killed(argv, after_s, cwd):
    proc = subprocess.Popen([PY, "-m", "inception_tools", *argv], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=ENV)
    time.sleep(after_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@probe("kill and restart", "importance killed with -9 mid-scan, resumed: same CSV as an uninterrupted run")
def _():
    argv = ["importance", "--limit", "200", "--batch-size", "8"]
    subprocess.run([PY, "-m", "inception_tools", *argv, "--out", path("k1", "importance.csv")], check=True,
                   capture_output=True, env=ENV)
    run_killed([*argv, "--out", path("k2", "importance.csv")], 9, W)
    subprocess.run([PY, "-m", "inception_tools", *argv, "--out", path("k2", "importance.csv")], check=True,
                   capture_output=True, env=ENV)
    a, b = (open(path(k, "importance.csv"), "rb").read() for k in ("k1", "k2"))
    assert a == b
    return "byte-identical"


# ---------------------------------------------------------------- survey over HTTP

def start_survey(study, *names):
    args = [PY, "-m", "inception_tools", "survey", "--study", study, "--port", "0"]
    for name in names:
        args += ["--participant", name]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    urls = {}
    for _ in range(len(names) + 2):
        line = proc.stdout.readline()
        if not line:
            break
        if "http://" in line:
            name, url = line.strip().split(": ", 1)
            urls[name] = url
    return proc, urls


def survey_study():
    study = path("survey")
    if not os.path.isdir(study):
        os.makedirs(study)
        shutil.copy(path("scan", "importance.csv"), study)
        shutil.copy(path("scan", "groups.csv"), study)
        code, _, err = cli("examples", "--limit", "60", "--out", study)
        assert code == 0, err
        channels = [r["feature_ind"] for r in csv.DictReader(open(os.path.join(study, "groups.csv")))]
        code, _, err = cli("visualize", "--channels", ",".join(channels), "--steps", "2", "--out", study)
        assert code == 0, err
    return study


def hit(url, method="GET", route="/api/state", body=None, headers=None, query=True):
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    target = route + ("?" + parts.query if query else "")
    hdrs = {"Host": parts.netloc, **(headers or {})}
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    if data is not None and "Content-Type" not in hdrs:
        hdrs["Content-Type"] = "application/json"
    conn.request(method, target, body=data, headers=hdrs)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    return response.status, (json.loads(raw) if raw.startswith(b"{") else raw)


def credentials(url):
    from urllib.parse import parse_qs, urlsplit
    q = parse_qs(urlsplit(url).query)
    return q["participant"][0], q["token"][0]


@probe("survey", "two servers on one study: the second is refused in one line, the first keeps every answer")
def _():
    study = survey_study()
    first, urls = start_survey(study, "ann", "ben")
    try:
        second, _ = start_survey(study, "cat")
        try:
            _, err = second.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            second.kill()
            second.communicate()
            raise AssertionError("the second server started and kept running") from None
        assert second.returncode == 2 and "another survey server is already writing" in err, err
        assert err.strip().count("\n") == 0, err
        for name in ("ann", "ben"):
            participant, token = credentials(urls[name])
            pos = hit(urls[name])[1]["position"]
            assert hit(urls[name], "POST", "/api/describe", {"participant": participant, "token": token,
                        "position": pos, "question1": 3, "text_question": "dots"}, query=False)[0] == 200
            assert hit(urls[name], "POST", "/api/rate", {"participant": participant, "token": token, "position": pos,
                        "question3": 1, "question4": 2, "question5": 3, "question6": 4}, query=False)[0] == 200
    finally:
        first.terminate()
        first.wait()
    rows = list(csv.DictReader(open(os.path.join(study, "answers.csv"))))
    assert sorted(r["participant"] for r in rows) == ["ann", "ben"], rows
    return "second: " + err.strip()[:110]


@probe("survey", "cross-origin and text/plain POSTs, a wrong token, a foreign Host: refused, nothing written")
def _():
    study = survey_study()
    server, urls = start_survey(study, "dee")
    try:
        participant, token = credentials(urls["dee"])
        body = {"participant": participant, "token": token, "position": 1, "question1": 5, "text_question": "forged"}
        statuses = [
            hit(urls["dee"], "POST", "/api/describe", body, {"Origin": "http://evil.example"}, query=False)[0],
            hit(urls["dee"], "POST", "/api/describe", json.dumps(body).encode(), {"Content-Type": "text/plain"},
                 query=False)[0],
            hit(urls["dee"], "POST", "/api/describe", {**body, "token": "x" * 32}, query=False)[0],
            hit(urls["dee"], "POST", "/api/describe", body, {"Host": "evil.example:80"}, query=False)[0],
            hit(urls["dee"].replace(token, "wrong"), "GET", "/api/state")[0],
            hit(urls["dee"].split("&token")[0], "GET", "/api/state")[0],
        ]
        assert statuses == [403, 415, 403, 403, 403, 403], statuses
        locked = os.path.join(study, "answers.locked.json")
        assert "forged" not in (open(locked).read() if os.path.exists(locked) else "")
        huge = hit(urls["dee"], "POST", "/api/describe", {**body, "position": "9" * 5000}, query=False)
        assert huge[0] == 400, huge
        assert hit(urls["dee"], "GET", "/image/visualizations/" + "9" * 5000)[0] == 400
        status = hit(urls["dee"], "POST", "/api/describe", {**body, "text_question": "=cmd|' /C calc'!A0"},
                      {"Origin": urls["dee"].split("/?")[0]}, query=False)[0]
        assert status == 200
        pos = hit(urls["dee"])[1]["position"]
        assert hit(urls["dee"], "POST", "/api/rate", {"participant": participant, "token": token, "position": pos,
                    "question3": 1, "question4": 2, "question5": 3, "question6": 4}, query=False)[0] == 200
    finally:
        server.terminate()
        server.wait()
    rows = [r for r in csv.DictReader(open(os.path.join(study, "answers.csv"))) if r["participant"] == "dee"]
    assert rows[0]["text_question"].startswith("'="), rows
    return f"statuses {statuses}; 5000 digits -> 400; formula stored as {rows[0]['text_question'][:6]!r}"


@probe("survey", "killed with -9 and restarted: same tokens, locked answer kept")
def _():
    study = survey_study()
    server, urls = start_survey(study, "eve")
    try:
        participant, token = credentials(urls["eve"])
        pos = hit(urls["eve"])[1]["position"]
        assert hit(urls["eve"], "POST", "/api/describe", {"participant": participant, "token": token, "position": pos,
                   "question1": 2, "text_question": "kept"}, query=False)[0] == 200
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    server, again = start_survey(study, "eve")
    try:
        assert again["eve"].split("?")[1] == urls["eve"].split("?")[1], (again, urls)
        state = hit(again["eve"])[1]
        assert state["stage"] == "rate" and state["text_question"] == "kept", state
    finally:
        server.terminate()
        server.wait()
    return "resumed at rate with the locked text"


@probe("survey", "40 parallel answers from 4 participants on one server, 30 idle connections open")
def _():
    import socket
    study = survey_study()
    names = ["f1", "f2", "f3", "f4"]
    server, urls = start_survey(study, *names)
    idle = []
    try:
        host, port = urls["f1"].split("//")[1].split("/")[0].split(":")
        idle = [socket.create_connection((host, int(port))) for _ in range(30)]
        errors = []

        def answer(name):
            participant, token = credentials(urls[name])
            for _ in range(5):
                pos = hit(urls[name])[1]["position"]
                for route, extra in (("/api/describe", {"question1": 3, "text_question": name}),
                                     ("/api/rate", {"question3": 1, "question4": 2, "question5": 3, "question6": 4})):
                    status = hit(urls[name], "POST", route, {"participant": participant, "token": token,
                                                              "position": pos, **extra}, query=False)[0]
                    if status != 200:
                        errors.append((name, route, status))

        threads = [threading.Thread(target=answer, args=(n,)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]
    finally:
        for s in idle:
            s.close()
        server.terminate()
        server.wait()
    rows = [r for r in csv.DictReader(open(os.path.join(study, "answers.csv"))) if r["participant"] in names]
    assert len(rows) == 20, len(rows)
    return "20 rows from 40 acknowledged posts"


# ---------------------------------------------------------------- concurrency

@probe("concurrency", "two importance scans on one --out: the second is refused while the first runs")
def _():
    argv = [PY, "-m", "inception_tools", "importance", "--limit", "1000", "--method", "reference", "--batch-size", "8",
            "--out", path("cc", "importance.csv")]  # the reference engine: the first scan outlasts the second's start
    first = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    try:
        deadline = time.time() + 60
        while not os.path.exists(path("cc", "importance.partial", "settings.json")) and time.time() < deadline:
            time.sleep(0.5)
        second = subprocess.run(argv, capture_output=True, text=True, env=ENV)
        assert second.returncode == 2 and "another process is writing" in second.stderr, second.stderr[-300:]
    finally:
        first.kill()
        first.wait()
    return second.stderr.strip().splitlines()[-1][:100]


# ---------------------------------------------------------------- the Python API

@probe("python api", "strings for models, unknown layers, limit=0, channels out of range: one-line UserErrors")
def _():
    import inception_tools as it
    from inception_tools.errors import UserError
    model = it.load_model("embedded")
    ds = it.load_dataset("embedded", model, limit=20)
    calls = [
        lambda: it.load_model({"name": "embedded"}),
        lambda: it.load_dataset("embedded", "embedded"),
        lambda: it.load_dataset("embedded", model, limit=0),
        lambda: it.importance("embedded", "mixed3a", ds),
        lambda: it.importance(model, "mixed3a_pre_relu", ds),
        lambda: it.importance(model, "mixed3a", ds, channels=[0, 200]),
        lambda: it.importance(model, "mixed3a", ds, top_k=10),
        lambda: it.render(model, "softmax2", 0, steps=2),
        lambda: it.render(model, "mixed3a", -1, steps=2),
        lambda: it.examples(model, "mixed3a", ds, channels=[96]),
        lambda: it.examples(model, "nope", ds),
        lambda: it.reliability(path("nothing.csv")),
        lambda: it.reliability(path("scan", "importance.csv"), seed=-1),
    ]
    for i, call in enumerate(calls):
        try:
            call()
        except UserError as e:
            assert "\n" not in str(e) and "--" not in str(e), str(e)
            continue
        raise AssertionError(f"call {i} was not refused")
    return f"{len(calls)} calls, {len(calls)} UserErrors"


def main():
    global W, ENV
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="work folder to keep (default: a temporary one, removed)")
    parser.add_argument("--only", help="run only the probes of this family")
    args = parser.parse_args()
    W = args.keep or tempfile.mkdtemp(prefix="probe_hostile-")
    os.makedirs(W, exist_ok=True)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ENV = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH") or root, "INCEPTION_TOOLS_RENDER_CACHE": os.path.join(W, "render-cache")}
    os.environ["INCEPTION_TOOLS_RENDER_CACHE"] = ENV["INCEPTION_TOOLS_RENDER_CACHE"]
    os.chdir(W)
    Image.new("RGB", (28, 28), (200, 200, 200)).save(path("digit.png"))
    started = time.time()
    setup()
    for run in PROBES:
        if args.only and run.family != args.only:
            continue
        run()
    passed = sum(ok for _, _, ok, _ in RESULTS)
    families = sorted({f for f, _, _, _ in RESULTS})
    print(f"\n{len(RESULTS)} probes, {passed} passed, {len(RESULTS) - passed} failed "
          f"({', '.join(f'{f} {sum(ok for g, _, ok, _ in RESULTS if g == f)}/{sum(g == f for g, _, _, _ in RESULTS)}' for f in families)}) "
          f"in {time.time() - started:.0f} s; work folder {W}")
    if not args.keep:
        shutil.rmtree(W, ignore_errors=True)
    return 0 if passed == len(RESULTS) else 1


ENV = None

if __name__ == "__main__":
    sys.exit(main())
