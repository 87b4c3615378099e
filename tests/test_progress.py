"""The library shows nothing by itself; progress and messages go where the caller sends them (progress.py)."""

import subprocess
import sys

from inception_tools import progress
from inception_tools.cli import main


class Recorder:
    """A progress factory that records what the library reports."""

    def __init__(self):
        self.bars = []

    def __call__(self, total=None, desc=None, unit="it", initial=0, **options):
        record = {"total": total, "desc": desc, "initial": initial, "done": 0}
        self.bars.append(record)

        class Bar:
            def update(self, n=1):
                record["done"] += n

            def close(self):
                pass

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                pass

        return Bar()


def test_library_calls_print_nothing_and_report_through_the_installed_factory(embedded_model, capfd):
    import inception_tools as it

    dataset = it.load_dataset("embedded", embedded_model, limit=40)
    it.importance(embedded_model, "mixed3a", dataset, channels=[0, 1], report=lambda line: None)
    captured = capfd.readouterr()
    assert captured.out == "" and "img/s" not in captured.err and "%|" not in captured.err

    recorder = Recorder()
    with progress.progress_to(recorder):
        it.importance(embedded_model, "mixed3a", dataset, channels=[0, 1], report=lambda line: None)
    scan = [b for b in recorder.bars if b["desc"] == "fast mixed3a"]
    assert scan and scan[0]["total"] == 2 * 40 and scan[0]["done"] == 2 * 40
    assert progress.set_progress(None) is None  # the block restored "show nothing"


def test_the_command_line_shows_bars_and_warnings_on_stderr(tmp_path, capsys):
    import logging

    assert main(["importance", "--limit", "20", "--channels", "0", "--out", str(tmp_path / "i.csv")]) == 0
    assert "fast mixed3a: 100%" in capsys.readouterr().err
    logging.getLogger("inception_tools.data.folder").warning("skipped 1 unreadable image file(s): a.jpg")
    assert capsys.readouterr().err == "warning: skipped 1 unreadable image file(s): a.jpg\n"
    assert progress.set_progress(None) is None  # main() put back what it found


def test_no_module_draws_bars_or_prints_itself():
    code = ("import pathlib, re, inception_tools as it; root = pathlib.Path(it.__file__).parent; "
            "bad = [str(p) for p in root.rglob('*.py') if 'cli' not in p.parts and p.name != 'progress.py' "
            "and re.search(r'^from tqdm|^import tqdm|\\bprint\\(', p.read_text(), re.M)]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
