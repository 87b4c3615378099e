"""The static gallery: ranking, channel pages, contact sheet, idempotent rebuilds, the browser view."""

import os
import re

import pytest
from PIL import Image

from browser import LAYER, chromium, chromium_missing_reason, fake_importance, write_fake_study
from inception_tools.cli import build_parser
from inception_tools.errors import UserError
from inception_tools.gallery import SHEET_CELL_WIDTH, build_gallery

N_CHANNELS = 12
UNSEEN = 5  # the channel without visualization or examples


@pytest.fixture
def study(tmp_path):
    root = write_fake_study(tmp_path / "study", N_CHANNELS, imaged=[c for c in range(N_CHANNELS) if c != UNSEEN])
    return root


def expected_ranking():
    rows = [fake_importance(c) for c in range(N_CHANNELS)]
    return [r["feature_ind"] for r in sorted(rows, key=lambda r: (-r["importance"], r["feature_ind"]))]


def read(path):
    with open(path) as f:
        return f.read()


def row_channels(index_html):
    return [int(c) for c in re.findall(r'<tr data-channel="(\d+)"', index_html)]


def test_index_ranks_every_channel_by_importance(study):
    index = build_gallery(study)
    assert index == os.path.join(study, "gallery", "index.html")
    assert row_channels(read(index)) == expected_ranking()


def test_channel_page_shows_numbers_and_images_by_relative_links(study):
    build_gallery(study)
    gallery = os.path.join(study, "gallery")
    page = read(os.path.join(gallery, "channel_0003.html"))
    numbers = fake_importance(3)
    assert f'id="newly-wrong">{numbers["newly_wrong"]}<' in page
    assert f'id="newly-right">{numbers["newly_right"]}<' in page
    assert f'id="mcnemar-p">{numbers["mcnemar_p"]:.4g}<' in page
    assert f'id="delta-logprob">{numbers["mean_delta_logprob"]:+.6g}<' in page
    assert "n01440003_0.JPEG" in page  # the top examples' image ids from examples.json
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert sources == [
        f"../visualizations/{LAYER}/channel_0003.png",
        f"../examples/{LAYER}/channel_0003_top.png",
        f"../examples/{LAYER}/channel_0003_bottom.png",
    ]
    for name in os.listdir(gallery):
        if name.endswith(".html"):
            assert os.fspath(study) not in read(os.path.join(gallery, name)), f"absolute path in {name}"


def test_channel_without_visualization_gets_a_placeholder(study):
    build_gallery(study)
    gallery = os.path.join(study, "gallery")
    row = re.search(rf'<tr data-channel="{UNSEEN}".*?</tr>', read(os.path.join(gallery, "index.html"))).group(0)
    assert 'src="assets/placeholder.svg"' in row
    assert os.path.isfile(os.path.join(gallery, "assets", "placeholder.svg"))
    page = read(os.path.join(gallery, f"channel_{UNSEEN:04d}.html"))
    assert "<img" not in page and "not computed" in page


def test_contact_sheet_shows_the_top_channels_in_rank_order(study):
    build_gallery(study, top_n=5, columns=2)
    sheet = Image.open(os.path.join(study, "gallery", "contact_sheet.png")).convert("RGB")
    build_gallery(study, top_n=2, columns=2)
    one_row = Image.open(os.path.join(study, "gallery", "contact_sheet.png"))
    assert sheet.width == one_row.width == 2 * SHEET_CELL_WIDTH
    assert sheet.height == 3 * one_row.height  # 5 channels in 2 columns: 3 rows
    first = expected_ranking()[0]
    # The first tile of the top channel's strip, well inside the tile: its fake colour.
    assert sheet.getpixel((20, one_row.height // 2)) == ((first * 37) % 256, 0, (first * 11) % 256)


def test_rebuild_changes_nothing_and_refreshes_a_newer_visualization(study):
    build_gallery(study)
    gallery = os.path.join(study, "gallery")

    def snapshot():
        return {
            os.path.join(d, f): os.stat(os.path.join(d, f)).st_mtime_ns
            for d, _, files in os.walk(gallery) for f in files
        }

    before = snapshot()
    build_gallery(study)
    assert snapshot() == before
    visualization = os.path.join(study, "visualizations", LAYER, "channel_0002.png")
    Image.new("RGB", (64, 16), (1, 2, 3)).save(visualization)
    os.utime(os.path.join(gallery, "thumbs", "channel_0002.png"), (0, 0))  # older than the new visualization
    build_gallery(study)
    assert Image.open(os.path.join(gallery, "thumbs", "channel_0002.png")).getpixel((5, 5)) == (1, 2, 3)
    assert not [f for f in os.listdir(gallery) if f.endswith(".tmp")]


def test_missing_or_bad_importance_is_a_user_error(tmp_path, study):
    with pytest.raises(UserError, match="importance.csv not found"):
        build_gallery(tmp_path / "empty")
    path = os.path.join(study, "importance.csv")
    lines = read(path).splitlines()
    lines[3] = lines[3].replace(",0.", ",zero.", 1)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    with pytest.raises(UserError, match="line 4"):
        build_gallery(study)


def test_command_builds_the_gallery(study, capsys):
    args = build_parser().parse_args(["gallery", "--study", os.fspath(study), "--top-n", "3"])
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip() == f"gallery: {os.path.join(study, 'gallery', 'index.html')}"


def visible_channels(page):
    return page.eval_on_selector_all("#channels tbody tr", "rows => rows.map(r => Number(r.dataset.channel))")


@pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason()))
def test_gallery_in_a_browser_from_disk(study):
    index = build_gallery(study)
    rows = [fake_importance(c) for c in range(N_CHANNELS)]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 2000})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"file://{index}")
        page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        assert visible_channels(page) == expected_ranking()

        page.click("button[data-sort=p]")
        by_p = sorted(rows, key=lambda r: (r["mcnemar_p"], r["feature_ind"]))
        assert visible_channels(page) == [r["feature_ind"] for r in by_p]
        page.click("button[data-sort=p]")
        assert [rows[c]["mcnemar_p"] for c in visible_channels(page)] == sorted(
            (r["mcnemar_p"] for r in rows), reverse=True
        )
        page.click("button[data-sort=channel]")
        assert visible_channels(page) == list(range(N_CHANNELS))
        page.click("button[data-sort=importance]")
        assert visible_channels(page) == expected_ranking()
        page.click("button[data-sort=kl]")
        by_kl = sorted(rows, key=lambda r: (-r["mean_kl"], r["feature_ind"]))
        assert visible_channels(page) == [r["feature_ind"] for r in by_kl]
        page.click("button[data-sort=dlogp]")  # the largest drop of log-probability first
        by_dlogp = sorted(rows, key=lambda r: (r["mean_delta_logprob"], r["feature_ind"]))
        assert visible_channels(page) == [r["feature_ind"] for r in by_dlogp]
        warning = page.inner_text("header .warning")
        assert "ranking by importance is unreliable" in warning and "kl is reliable" in warning
        assert page.locator("header .reliability li").count() == 4
        page.click("button[data-sort=importance]")

        page.click("#channels tbody tr:first-child td:nth-child(3) a")
        page.wait_for_url(f"**/channel_{expected_ranking()[0]:04d}.html")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        widths = page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
        assert len(widths) == 3 and all(w > 0 for w in widths)
        assert errors == []


def test_gallery_ranked_by_another_measure_has_no_warning_when_it_is_reliable(study):
    index = read(build_gallery(study, score="kl"))
    rows = [fake_importance(c) for c in range(N_CHANNELS)]
    assert row_channels(index) == [r["feature_ind"] for r in sorted(rows, key=lambda r: (-r["mean_kl"], r["feature_ind"]))]
    assert 'class="warning"' not in index and "split-half rho 0.80" in index
    assert 'class="warning"' in read(build_gallery(study))


@pytest.mark.parametrize("examples_json, message", [
    ("[1, 2]", "not examples JSON"),
    ('{"3": 5}', "entry '3' is not a channel number"),
    ('{"x": {}}', "entry 'x' is not a channel number"),
    ('{"3": {"top": "n01", "top_values": [1.0]}}', "channel 3: 'top' and 'top_values' must be lists"),
    ('{"3": {"top": ["a", "b"], "top_values": [1.0]}}', "must be lists of one length"),
    ('{"3": {"top": ["a"], "top_values": ["high"]}}', "'top_values' must hold numbers"),
])
def test_structurally_wrong_examples_json_is_one_line(study, examples_json, message):
    # Before: AttributeError/TypeError tracebacks for all but the first.
    with open(os.path.join(study, "examples", LAYER, "examples.json"), "w") as f:
        f.write(examples_json)
    with pytest.raises(UserError, match=message):
        build_gallery(study)


@pytest.mark.parametrize("summary", ["[1]", '"text"', "{"])
def test_an_importance_summary_that_is_not_an_object_is_one_line(study, summary):
    with open(os.path.join(study, "importance.json"), "w") as f:
        f.write(summary)
    with pytest.raises(UserError, match="importance.json"):
        build_gallery(study)


def test_a_decompression_bomb_visualization_is_one_line(study):
    Image.MAX_IMAGE_PIXELS, limit = None, Image.MAX_IMAGE_PIXELS
    try:
        Image.new("1", (14000, 13000)).save(os.path.join(study, "visualizations", LAYER, "channel_0002.png"))
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    with pytest.raises(UserError, match="cannot read the image .*channel_0002.png"):
        build_gallery(study)


def test_a_channel_listed_twice_is_refused(study):
    # Before: the gallery built both rows.
    path = os.path.join(study, "importance.csv")
    lines = read(path).splitlines()
    with open(path, "w") as f:
        f.write("\n".join(lines + [lines[3]]) + "\n")
    with pytest.raises(UserError, match="appears more than once"):
        build_gallery(study)


def test_extra_columns_are_kept_out_of_the_way(study):
    path = os.path.join(study, "importance.csv")
    lines = read(path).splitlines()
    with open(path, "w") as f:
        f.write("\n".join([lines[0] + ",notes,other_score"] + [line + ",x,-1" for line in lines[1:]]) + "\n")
    assert row_channels(read(build_gallery(study))) == expected_ranking()
