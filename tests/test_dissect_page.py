"""The dissection page and figure from a made-up result (no model), and the page in a browser."""

import numpy as np
import pytest

from inception_tools import runner
from inception_tools.dissect import page, stage, store

from browser import chromium, chromium_missing_reason


def made_up(compose=True):
    """4 channels, 3 concepts: channel 2 detects 'red' (IoU 0.5), channel 0 'green' (0.1); 1 and 3 detect nothing."""
    intersection = np.array([[0, 10, 0], [1, 0, 0], [50, 0, 0], [0, 0, 0]])
    unit_area = np.array([20, 100, 60, 0])
    concept_area = np.array([90, 90, 5])
    examples = np.zeros((2, 2, 8, 8, 3), np.uint8)
    examples[0, :, :4] = 200
    return stage.Dissection(
        model="toy", layer="conv", config=stage.DissectConfig(layer="conv", resolution=8, examples=2),
        concept_names=["red", "green", "lab"], concept_categories=["color", "color", "scene"], n_images=5,
        thresholds=np.ones(4, np.float32), threshold_error=np.full(4, 1e-6),
        group_intersection=np.stack([intersection - intersection // 2, intersection // 2]),
        group_unit_area=np.stack([unit_area - unit_area // 2, unit_area // 2]),
        group_concept_area=np.stack([concept_area - concept_area // 2, concept_area // 2]), top_rows=np.zeros((4, 2), np.int64),
        top_values=np.ones((4, 2), np.float32), example_channels=np.array([2, 0]), examples=examples,
        formula_channels=np.array([2]) if compose else np.zeros(0, np.int64),
        formulas=["red OR lab"] if compose else [], formula_iou=np.array([0.55]) if compose else np.zeros(0))


def test_summary_and_rows():
    result = made_up()
    assert np.isclose(result.best_iou[2], 50 / (60 + 90 - 50)) and result.detectors.tolist() == [2, 0]
    summary = store.summary(result)
    assert summary["by_category"] == {"color": {"detectors": 2, "unique": 2}, "scene": {"detectors": 0, "unique": 0}}
    assert summary["top_detectors"][0]["channel"] == 2
    lo, hi = summary["top_detectors"][0]["iou_95"]
    assert lo <= result.best_iou[2] <= hi and hi - lo < 0.1
    rows = store.rows(result)
    assert rows[2]["concept"] == "red" and rows[2]["detector"] == 1 and rows[2]["formula"] == "red OR lab"
    assert rows[3]["detector"] == 0 and rows[3]["formula"] == "" and rows[1]["mask_fraction"] == "0.31250"  # 100 of 5 x 8 x 8


def test_page_lists_the_detectors_strongest_first(tmp_path):
    result = made_up()
    folder = runner.Folder(tmp_path)
    page.write_page(result, folder)
    html = (tmp_path / "index.html").read_text()
    assert html.index('data-channel="2"') < html.index('data-channel="0"')
    assert 'data-channel="1"' not in html and "red OR lab (0.550)" in html
    assert "2 of 4 channels are detectors." in html
    assert (tmp_path / "examples" / "channel_0002.png").is_file() and (tmp_path / "assets" / "dissect.css").is_file()


def test_write_and_read_round_trip(tmp_path):
    result = made_up()
    folder = runner.Folder(tmp_path)
    folder.write_json("settings.json", runner.settings(stage.STAGE, result.config, {}))
    stage.write(result, folder)
    back = stage.read(folder)
    assert back.formulas == result.formulas and back.concept_categories == result.concept_categories
    for name in store.ARRAYS:
        assert np.array_equal(getattr(back, name), getattr(result, name)), name
    assert back.config == result.config and back.n_images == 5


def test_figure_without_detectors_says_so():
    result = made_up(compose=False)
    result.example_channels, result.examples = np.zeros(0, np.int64), np.zeros((0, 2, 8, 8, 3), np.uint8)
    figure = page.detectors_figure(result)
    assert "no detectors" in figure.texts[0].get_text()


@pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason()))
def test_page_in_a_browser_shows_every_example(tmp_path):
    page.write_page(made_up(), runner.Folder(tmp_path))
    with chromium() as browser:
        tab = browser.new_page()
        errors = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.goto(f"file://{tmp_path / 'index.html'}")
        tab.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        assert tab.locator("#detectors tbody tr").count() == 2 and tab.locator("img.examples").count() == 2
        assert tab.eval_on_selector("img.examples", "i => getComputedStyle(i).height") == "96px"
        assert errors == []
