"""The atlas page in headless Chromium, on a synthetic atlas written by the stage's writer (no model needed)."""

import json

import numpy as np
import pytest
from PIL import Image

from browser import chromium, chromium_missing_reason
from inception_tools import runner
from inception_tools.atlas import stage
from inception_tools.atlas.stage import Atlas, AtlasConfig, LayerAtlas

CELLS = np.array([[0, 0], [1, 2], [2, 1], [2, 2]])
COUNTS = np.array([9, 4, 16, 5])
CLASSES = ["zero", "one", "two", "three", "four"]


def synthetic_atlas(by_density=False):
    m, k, tile = len(CELLS), 3, stage.PATCH_TILE
    renders = np.stack([np.full((8, 8, 3), (j + 1) / (m + 1), np.float32) for j in range(m)])
    patches = np.zeros((m, k, tile, tile, 3), np.uint8)
    for j in range(m):
        for p in range(k):
            patches[j, p] = (40 * j, 80 * p, 200)
    scores = np.array([[0, 3, 1, 2, -1], [5, 0, 0, 0, 1], [0, 0, 0, 9, 8], [1, 2, 3, 4, 5]], np.float32)
    layer = LayerAtlas(
        "mixed4c", (14, 14), np.zeros((34, 2), np.float32), np.arange(34), np.zeros((34, 2), np.int64),
        np.zeros((34, 2)), CELLS, COUNTS, np.zeros((m, 2), np.float32), renders, scores,
        np.argsort(-scores, axis=1, kind="stable")[:, :3], np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]),
        np.zeros((m, k, 2), np.int64), patches)
    config = AtlasConfig(layers=("mixed4c",), grid=3, by_density=by_density, patches=k, top_classes=3)
    return Atlas("InceptionV1", config, [layer], [f"image_{i}.jpg" for i in range(34)], CLASSES)


@pytest.fixture(params=[False, True], ids=["plain", "by-density"])
def written(request, tmp_path):
    result = synthetic_atlas(request.param)
    stage.write(result, runner.Folder(str(tmp_path)))
    return tmp_path, result


def test_written_files_and_data(written):
    folder, result = written
    data = json.loads((folder / "atlas.json").read_text())
    cell = data["layers"][0]["cells"][1]
    assert (cell["row"], cell["col"], cell["count"]) == (1, 2, 4)
    assert [t["name"] for t in cell["top"]] == ["zero", "four", "one"]
    assert [p["id"] for p in cell["patches"]] == ["image_3.jpg", "image_4.jpg", "image_5.jpg"]
    strip = np.asarray(Image.open(folder / "patches" / "mixed4c" / "r01_c02.png"))
    assert strip.shape == (stage.PATCH_TILE, 3 * stage.PATCH_TILE, 3) and tuple(strip[0, -1]) == (40, 160, 200)
    sheet = np.asarray(Image.open(folder / "atlas.png"))
    assert sheet.shape[0] == 3 * 8 + 18  # the grid of 8 px renders under the title
    again = stage.read(runner.Folder(str(folder)))
    assert np.array_equal(again.layers[0].patches, result.layers[0].patches) and again.config == result.config


@pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason()))
def test_hovering_a_cell_shows_its_count_patches_and_classes(written):
    folder, result = written
    with chromium() as browser:
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(f"file://{folder / 'atlas.html'}")
        section = "#layer-mixed4c"
        assert tab.locator(f"{section} .cell").count() == len(CELLS)
        assert tab.locator(f"{section} .entry img").count() == 0
        tab.hover(f"{section} .cell[data-row='1'][data-col='2']")
        assert "cell (1, 2): 4 vectors" in tab.inner_text(f"{section} .entry h3")
        assert tab.get_attribute(f"{section} .entry img.patches", "src") == "patches/mixed4c/r01_c02.png"
        tab.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        width = tab.eval_on_selector(f"{section} .entry img.patches", "i => i.naturalWidth")
        assert width == 3 * stage.PATCH_TILE
        names = tab.eval_on_selector_all(f"{section} .entry table.classes td:first-child", "t => t.map(x => x.textContent)")
        assert names == ["zero", "four", "one"]
        tab.hover(f"{section} .cell[data-row='2'][data-col='1']")
        assert "16 vectors" in tab.inner_text(f"{section} .entry h3")
        sides = tab.eval_on_selector_all(f"{section} .cell img", "imgs => imgs.map(i => i.getBoundingClientRect().width)")
        if result.config.by_density:  # sqrt(count / 16): 3/4, 1/2, 1, sqrt(5)/4 of the cell
            assert sides[2] == max(sides) and sides[1] == pytest.approx(sides[2] / 2, abs=1)
        else:
            assert max(sides) - min(sides) < 1
        assert errors == []
