"""The replications page: quick mode runs in the suite, and its "ours" column is what the toolkit's functions return."""

import importlib.util
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

import inception_tools as it
from inception_tools.activations.pca import k_for, load_basis
from inception_tools.blocks.build import dataset_means
from inception_tools.classes import class_study
from inception_tools.classes.config import ClassesConfig
from inception_tools.replications import blocks, page
from inception_tools.replications.run import replicate

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "replications.py"

STATUSES = (page.REPRODUCED, page.DIRECTION, page.DIFFERS, page.NOT_RUNNABLE, page.NOT_BUILT, page.OURS_ONLY)
TITLES = ("Teague", "Terekhov", "Dey et al.", "Building Blocks", "Curve Detectors", "Adebayo et al.",
          "Network Dissection")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    root = tmp_path_factory.mktemp("replications")
    started = time.process_time()  # CPU time of this process (all its threads): robust to a busy machine
    replicate(str(root / "replications.md"), full=False, work_dir=str(root / "work"))
    cpu_seconds = time.process_time() - started
    return root, (root / "replications.md").read_text(), cpu_seconds


def rows_after(text, heading):
    """Cells of the Markdown table rows under the first line that starts with ``heading``."""
    lines = text[text.index(heading):].splitlines()[1:]
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_quick_mode_runs_in_the_suite_and_fills_every_source(quick):
    root, text, cpu_seconds = quick
    assert cpu_seconds < 120, f"quick mode took {cpu_seconds:.0f} s of CPU"
    for title in TITLES:
        assert re.search(rf"^## .*{re.escape(title)}", text, re.M), title
    data = json.loads((root / "replications.json").read_text())
    assert set(data) == {"teague", "terekhov", "dey", "blocks", "curves", "adebayo", "dissection"}
    for key, section in data.items():
        for row in section["rows"]:
            assert row["status"] in STATUSES
            assert (row["status"] == page.NOT_BUILT) == (key in ("curves", "adebayo", "dissection"))
    summary = rows_after(text, "## Teague")
    assert all(len(r) == 5 for r in summary) and len(summary) >= 15
    assert re.search(r"^Mode: quick .* Run time: \d+ s of measurement", text, re.M)


def test_teague_tables_are_what_the_classes_stage_returns(quick, tmp_path):
    _, text, _ = quick
    model = it.load_model("embedded-mlp")
    dataset = it.load_dataset("embedded", model)
    layers = ["dense1", "dense2", "dense3"]
    summary = class_study(model, dataset, ClassesConfig(tuple(layers), threshold=0.999, definition="source", replicates=0),
                          str(tmp_path)).summary
    table3 = {(r[0], r[1]): r[2:12] for r in rows_after(text, "### Table 3")}
    for layer in layers:
        expected = [str(row["contributing"][layer]) for row in summary["per_class"]]
        assert table3[(f"{layer_name(layer)} = {layer}", "ours, source (path sign)")] == expected
    jaccard = np.loadtxt(tmp_path / "matrices" / "dense1_jaccard.csv", delimiter=",", skiprows=1, usecols=range(1, 11))
    off = jaccard[~np.eye(10, dtype=bool)]
    table8 = {r[0]: r for r in rows_after(text, "### Table 8")}
    assert table8["L1"][2] == page.span([off.min(), off.max()], 2)
    l5 = [row["contributing"]["dense3"] for row in summary["per_class"]]
    summary_rows = {r[0]: r for r in rows_after(text, "## Teague")}
    assert summary_rows["contributing nodes L5 (Table 3, of 32)"][2].startswith(page.span(l5) + " (source def.)")


def layer_name(layer):
    return {"dense1": "L1", "dense2": "L3", "dense3": "L5"}[layer]


def test_terekhov_figures_are_the_importance_scan(quick):
    _, text, _ = quick
    model = it.load_model("embedded")
    table = it.importance(model, "mixed3a", it.load_dataset("embedded", model, limit=500))
    mean = float(np.mean(table.columns["importance"]))
    row = {r[0]: r for r in rows_after(text, "## Terekhov")}["mean importance, all 832 features"]
    assert row[2].startswith(f"{mean:.3g} over 500 images")
    rho = table.summary["reliability"]["measures"]["importance"]["rho"]
    reliability = {r[0]: r for r in rows_after(text, "## Terekhov")}["reliability of the importance ranking at 50,000 images"]
    assert f"split-half rho {rho:.3f}" in reliability[2]


def test_dey_and_blocks_figures_are_the_stages_outputs(quick):
    root, text, _ = quick
    where = root / "work" / "dey-embedded-mixed3a"
    pcs, neurons = load_basis(str(where / "pca.npz")), load_basis(str(where / "neuron.npz"))
    dey = {r[0]: r for r in rows_after(text, "## Dey")}
    assert dey["80% of the variance: PCs vs neurons (mixed3a, d = 96)"][2].startswith(
        f"{k_for(pcs.explained(), 0.8)} vs {k_for(neurons.explained(), 0.8)}")
    model = it.load_model("embedded")
    image = blocks.composite_digits(model, it.load_dataset("embedded", model))
    means, _ = dataset_means(model, ["mixed3a"], "embedded", limit=200)
    m = blocks.measure(model, image, "mixed3a", [3, 7], means["mixed3a"], 0.5)
    row = rows_after(text, "## Olah")[0]
    assert f"3: {m['shares']['3']['ablation'][0]:.0%} of the positive position attribution" in row[2]
    assert f"7: {m['shares']['7']['ablation'][1]:.0%} on the right object" in row[2]


def test_script_refuses_full_mode_without_the_shared_folder(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("replications_script", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--full", "--shared", str(tmp_path / "none"), "--out", str(tmp_path / "r.md")]) == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "r.md").exists()


def test_status_rules():
    assert page.overlap_share((10, 16), (12, 17)) == pytest.approx(4 / 7)
    assert page.overlap_share((1, 2), (3, 4)) == 0.0
    assert page.status_of_range((42, 63), (45, 62), True) == page.REPRODUCED
    assert page.status_of_range((24, 28), (11, 28), True) == page.DIRECTION
    assert page.status_of_range((24, 28), (11, 28), False) == page.DIFFERS
    assert page.span([3, 1, 2]) == "1-3" and page.span([100, 100]) == "100"
