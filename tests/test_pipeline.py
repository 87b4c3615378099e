"""`inception-tools run` on the embedded model: every stage's files, resume, and the gallery in Chromium."""

import csv
import os
import subprocess
import sys

import pytest

from browser import chromium, chromium_missing_reason

ARGS = ["run", "--limit", "300", "--top", "4", "--steps", "16", "--batch-size", "100"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("study") / "embedded-mixed3a")
    result = subprocess.run([sys.executable, "-m", "inception_tools", *ARGS, "--out", out],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_every_stage_writes_its_files(study):
    out, stdout = study
    for stage in ("1/6", "2/6", "3/6", "4/6", "5/6", "6/6"):
        assert stage in stdout
    for name in ("explained_variance.csv", "ablation.png", "strips/pca_0001.png", "renders-16steps-28px-fast/pca_0001.png"):
        assert os.path.isfile(os.path.join(out, "basis", name)), name
    with open(os.path.join(out, "importance.csv")) as f:
        assert len(list(csv.DictReader(f))) == 96
    with open(os.path.join(out, "groups.csv")) as f:
        groups = list(csv.DictReader(f))
    assert sorted(g["group"] for g in groups) == ["middle"] * 4 + ["top"] * 4
    for g in groups:
        channel = int(g["feature_ind"])
        assert os.path.isfile(os.path.join(out, "visualizations", "mixed3a", f"channel_{channel:04d}.png"))
    for channel in range(96):
        assert os.path.isfile(os.path.join(out, "examples", "mixed3a", f"channel_{channel:04d}_top.png"))
    for name in ("importance_hist.png", "gallery/index.html", "gallery/contact_sheet.png"):
        assert os.path.isfile(os.path.join(out, name)), name


def test_a_second_run_keeps_every_stage(study):
    out, _ = study
    before = {name: os.path.getmtime(os.path.join(out, name)) for name in ("importance.csv", "groups.csv")}
    result = subprocess.run([sys.executable, "-m", "inception_tools", *ARGS, "--out", out],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "exists, kept" in result.stdout
    assert before == {name: os.path.getmtime(os.path.join(out, name)) for name in before}


@pytest.mark.parametrize("change, message", [
    # stage 1 on the study runner: its one line names the inputs or config that differ
    (["--limit", "250"], "was made with inputs.n_images=300 (now 250)"),
    (["--top-k", "2"], "was made with config.top_k=1 (now 2); delete it"),
    (["--top", "2", "--middle", "2"], "groups.csv holds other groups (top 4, middle 4) than top=2, middle=2"),
    (["--seed", "1"], "groups.csv holds other groups (top 4, middle 4) than top=4, middle=4, seed=1"),
])
def test_a_rerun_with_other_settings_is_refused_and_changes_nothing(study, change, message):
    # Before: exit 0, keeping importance.csv and groups.csv made under the first settings.
    out, _ = study
    names = ("importance.csv", "importance.json", "groups.csv")
    before = {name: open(os.path.join(out, name)).read() for name in names}
    result = subprocess.run([sys.executable, "-m", "inception_tools", *ARGS, *change, "--out", out],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith("error: ") and message in result.stderr.splitlines()[-1]
    assert "(now " in result.stderr or "groups" in message
    assert before == {name: open(os.path.join(out, name)).read() for name in names}


def test_the_groups_reported_are_those_in_groups_csv(study):
    out, stdout = study
    with open(os.path.join(out, "groups.csv")) as f:
        groups = list(csv.DictReader(f))
    sizes = {name: sum(g["group"] == name for g in groups) for name in ("top", "middle")}
    assert f"2/6 groups: top {sizes['top']} channels" in stdout and f"middle {sizes['middle']} channels" in stdout


@pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason()))
def test_gallery_of_the_run_lists_every_channel_in_a_browser(study):
    out, _ = study
    with chromium() as browser:
        page = browser.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"file://{os.path.abspath(os.path.join(out, 'gallery', 'index.html'))}")
        page.wait_for_load_state("load")
        first = page.eval_on_selector("#channels tbody tr img", "i => i.complete && i.naturalWidth > 0")
        assert first  # the most important channel's thumbnail (rendered by the run) shows
        channels = page.eval_on_selector_all("#channels tbody tr", "rows => rows.map(r => Number(r.dataset.channel))")
        assert sorted(channels) == list(range(96))
        assert errors == []
