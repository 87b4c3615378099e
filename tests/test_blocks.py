"""Building blocks on the embedded model: dictionary, attributions, NMF groups, render cache, page."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from browser import chromium, chromium_missing_reason
from inception_tools.blocks.attribution import attribute
from inception_tools.blocks.build import dataset_means, load_image, parse_classes, top_classes
from inception_tools.blocks.dictionary import semantic_dictionary
from inception_tools.blocks.groups import neuron_groups
from inception_tools.blocks.render_cache import RenderSettings, Unit, ensure_renders
from inception_tools.cli import main
from inception_tools.errors import UserError
from inception_tools.surgery import Network

LAYER = "mixed3a"
CHEAP = RenderSettings(size=28, steps=4)


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory):
    from inception_tools.data.digits import load_digits

    digits, _ = load_digits("test")
    path = tmp_path_factory.mktemp("digit") / "digit.png"
    Image.fromarray(np.repeat(digits[3][..., None], 3, axis=-1)).save(path)
    return str(path)


@pytest.fixture(scope="module")
def model():
    from inception_tools.models import load_model

    return load_model("embedded")


@pytest.fixture(scope="module")
def net(model):
    network = Network(model, LAYER)
    yield network
    network.close()


@pytest.fixture(scope="module")
def image(model, digit_png):
    return load_image(digit_png, model, "native")


@pytest.fixture(scope="module")
def acts(net, image):
    return net.layer_activations(image)


@pytest.fixture(scope="module")
def means(model):
    return dataset_means(model, [LAYER], "embedded", limit=32)[0][LAYER]


@pytest.fixture(scope="module")
def attributions(model, net, image, acts, means):
    classes = top_classes(net.unablated_logits(image)[0], model, 2)
    return attribute(net, acts, classes, means, batch_size=40)


def test_dictionary_holds_each_positions_largest_channels(acts):
    entry = semantic_dictionary(acts, 5)
    a = acts[0]
    assert entry.channels.shape == a.shape[:2] + (5,)
    np.testing.assert_array_equal(entry.values, np.sort(a, axis=-1)[..., ::-1][..., :5])
    np.testing.assert_array_equal(np.take_along_axis(a, entry.channels, axis=-1), entry.values)
    assert all(len(set(row)) == 5 for row in entry.channels.reshape(-1, 5))
    with pytest.raises(UserError):
        semantic_dictionary(acts, a.shape[-1] + 1)


def test_linear_attribution_sums_agree_and_follow_the_logit(net, image, acts, attributions):
    for a in attributions:
        assert a.linear_position.sum() == pytest.approx(a.linear_channel.sum(), rel=1e-6, abs=1e-6)
        # The gradient predicts the logit's change for a small nudge of the most sensitive channel
        # (checked through the Network's own partial-run imputation).
        y, x, c = np.unravel_index(np.argmax(np.abs(a.gradient)), a.gradient.shape)
        nudged = acts[..., c].copy()
        nudged[0, y, x] += 1e-2
        change = net.imputed_logits(image, [c], nudged[..., None])[0, a.label] - net.unablated_logits(image)[0, a.label]
        assert change == pytest.approx(1e-2 * a.gradient[y, x, c], rel=0.05)


def test_ablation_equals_running_the_network_with_the_unit_replaced(net, image, acts, attributions, means):
    base = net.unablated_logits(image)[0]
    a = attributions[0]
    for c in (int(np.argmax(a.ablation_channel)), int(np.argmin(a.ablation_channel)), 0):
        ablated = net.imputed_logits(image, [c], means[c])[0]
        assert a.ablation_channel[c] == pytest.approx(base[a.label] - ablated[a.label], abs=1e-4)
    depth = acts.shape[-1]
    y, x = np.unravel_index(np.argmax(a.ablation_position), a.ablation_position.shape)
    replaced = acts.copy()
    replaced[0, y, x] = means
    ablated = net.imputed_logits(image, list(range(depth)), replaced)[0]
    assert a.ablation_position[y, x] == pytest.approx(base[a.label] - ablated[a.label], abs=1e-4)
    assert a.ablation_channel.max() > 0 > a.ablation_channel.min()
    assert -1 <= a.channel_agreement().rho <= 1 and 0 <= a.channel_agreement().p_value <= 1


def test_zero_baseline_makes_both_linear_measures_equal(net, image, acts):
    a = attribute(net, acts, [3], np.zeros(acts.shape[-1]), batch_size=96)[0]
    np.testing.assert_allclose(a.baseline_channel, a.linear_channel)


def test_nmf_groups_reconstruct_the_activations(acts):
    groups = neuron_groups(acts, 6)
    assert groups.maps.shape == acts.shape[1:3] + (6,) and groups.directions.shape == (6, acts.shape[-1])
    assert groups.maps.min() >= 0 and groups.directions.min() >= 0
    flat = acts[0].reshape(-1, acts.shape[-1]).astype(np.float64)
    singular = np.linalg.svd(flat, compute_uv=False)
    best_rank6 = np.sqrt((singular[6:] ** 2).sum()) / np.sqrt((singular ** 2).sum())  # Eckart-Young bound
    error = groups.relative_error(acts)
    assert best_rank6 <= error <= best_rank6 + 0.1
    assert error < neuron_groups(acts, 1).relative_error(acts)
    masses = groups.maps.sum(axis=(0, 1))
    assert list(masses) == sorted(masses, reverse=True)
    with pytest.raises(UserError, match="non-negative"):
        neuron_groups(acts - 1, 2)


def test_render_cache_renders_once(model, tmp_path):
    units = [Unit.channel_of(5), Unit.channel_of(9), Unit.direction(np.arange(96.0)), Unit.channel_of(5)]
    paths, made = ensure_renders(model, LAYER, units, CHEAP, per_call=2, root=tmp_path)
    assert made == 3 and len(paths) == 3
    for path in paths.values():
        assert Image.open(path).size == (28, 28)
    again, made = ensure_renders(model, LAYER, units[:3], CHEAP, root=tmp_path)
    assert made == 0 and again == paths
    assert Unit.direction(np.arange(96.0) * 3).name == units[2].name  # scale-free key
    _, made = ensure_renders(model, LAYER, units[:1], RenderSettings(28, 5), root=tmp_path)
    assert made == 1  # other settings, other file


def test_render_cache_renders_truncated_or_empty_files_again(model, tmp_path):
    units = [Unit.channel_of(5), Unit.channel_of(9), Unit.channel_of(11)]
    paths, _ = ensure_renders(model, LAYER, units, CHEAP, per_call=3, root=tmp_path)
    good = open(paths["channel_0005"], "rb").read()
    with open(paths["channel_0005"], "wb") as f:
        f.write(good[: len(good) // 2])  # truncated
    open(paths["channel_0009"], "wb").close()  # empty
    again, made = ensure_renders(model, LAYER, units, CHEAP, root=tmp_path)
    assert made == 2  # before: 0, the broken files were copied into the page
    for path in again.values():
        with Image.open(path) as image:
            image.load()
            assert image.size == (28, 28)


def test_image_resizes_to_the_model_input(model, tmp_path):
    path = tmp_path / "wide.png"
    Image.new("RGB", (60, 30), (255, 0, 0)).save(path)
    for resize in ("squash", "center-crop"):
        image = load_image(path, model, resize)
        assert image.shape == (1, 28, 28, 3) and image.dtype == np.float32
        np.testing.assert_allclose(image[0, ..., 0], 1.0)
    with pytest.raises(UserError, match="native"):
        load_image(path, model, "native")


def test_classes_by_index_id_or_name(model):
    assert parse_classes("3, 7", model) == [3, 7]
    with pytest.raises(UserError, match="unknown class"):
        parse_classes("11", model)


def test_command_refuses_bad_input(digit_png, tmp_path, capsys):
    assert main(["blocks", "--image", str(tmp_path / "none.png"), "--out", str(tmp_path / "p")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["blocks", "--image", digit_png, "--limit", "3", "--out", str(tmp_path / "p")]) == 2
    assert "--limit needs --data" in capsys.readouterr().err
    assert main(["blocks", "--image", digit_png, "--layers", "softmax2", "--out", str(tmp_path / "p")]) == 2
    assert "softmax2" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "p")


@pytest.fixture(scope="module")
def page(digit_png, tmp_path_factory):
    """The page of the digit at mixed3a and mixed4a, made by the command with very cheap renders."""
    folder = tmp_path_factory.mktemp("blocks")
    assert main(["blocks", "--image", digit_png, "--layers", "mixed3a,mixed4a", "--n-classes", "2", "--top-n", "3",
                 "--groups", "3", "--resize", "native", "--render-size", str(CHEAP.size),
                 "--render-steps", str(CHEAP.steps), "--render-cache", str(folder / "renders"),
                 "--out", str(folder / "page")]) == 0
    index = str(folder / "page" / "index.html")
    with open(folder / "page" / "blocks.json") as f:
        return index, json.load(f)["summary"]


def test_page_files_and_cost(page):
    index, summary = page
    folder = os.path.dirname(index)
    with open(os.path.join(folder, "blocks.json")) as f:
        data = json.load(f)
    assert [layer["name"] for layer in data["layers"]] == ["mixed3a", "mixed4a"]
    assert summary["renders_made"] == summary["renders_shown"] > 0
    assert summary["renders_shown"] == sum(len(layer["thumbs"]) + len(layer["groups"]) for layer in data["layers"])
    for layer in data["layers"]:
        # Rendered: exactly the channels the page shows (dictionary entries and class tables).
        shown = {c for row in layer["dictionary"]["channels"] for cell in row for c in cell}
        shown |= {r["channel"] for a in layer["attributions"] for r in a["positive"] + a["negative"]}
        assert {int(c) for c in layer["thumbs"]} == shown
        for path in list(layer["thumbs"].values()) + [g["render"] for g in layer["groups"]]:
            assert os.path.isfile(os.path.join(folder, path)) and not os.path.isabs(path)


@pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason()))
def test_page_in_a_browser_hover_shows_the_dictionary_entry(page, acts):
    index, _ = page
    expected = semantic_dictionary(acts, 3).channels[4, 6].tolist()
    with chromium() as browser:
        tab = browser.new_page(viewport={"width": 1280, "height": 1200})
        errors = []
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(f"file://{index}")
        entry = "#layer-mixed3a .entry"
        assert tab.locator(f"{entry} img").count() == 0
        tab.hover("#layer-mixed3a .cell[data-y='4'][data-x='6']")
        shown = tab.eval_on_selector_all(f"{entry} img", "imgs => imgs.map(i => Number(i.dataset.channel))")
        assert shown == expected
        tab.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        widths = tab.eval_on_selector_all(f"{entry} img", "imgs => imgs.map(i => i.width)")
        assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]  # scaled by activation
        backgrounds = "cells => cells.map(c => c.style.background)"
        before = tab.eval_on_selector_all("#layer-mixed3a .cell", backgrounds)
        tab.hover("#layer-mixed3a .group[data-group='1']")
        assert tab.eval_on_selector_all("#layer-mixed3a .cell", backgrounds) != before
        assert errors == []


def test_page_folder_on_the_runner_settings_rerun_refusal_and_lock(page, digit_png, capsys):
    import filelock

    folder = os.path.dirname(page[0])
    with open(os.path.join(folder, "settings.json")) as f:
        settings = json.load(f)
    assert settings["stage"] == "blocks" and settings["config"]["layers"] == ["mixed3a", "mixed4a"]
    assert settings["inputs"]["image"] == "digit.png" and len(settings["inputs"]["image_sha256"]) == 64
    argv = ["blocks", "--image", digit_png, "--layers", "mixed3a,mixed4a", "--n-classes", "2", "--top-n", "3",
            "--groups", "3", "--resize", "native", "--render-size", str(CHEAP.size), "--render-steps", str(CHEAP.steps),
            "--render-cache", os.path.join(os.path.dirname(folder), "renders"), "--out", folder]
    files = sorted(os.path.join(d, n) for d, _, names in os.walk(folder) for n in names)
    before = {path: open(path, "rb").read() for path in files}
    capsys.readouterr()
    assert main(argv) == 0  # finished with these settings: computed again (renders cached), nothing rewritten
    assert "0 rendered now" in capsys.readouterr().out
    assert {path: open(path, "rb").read() for path in files} == before
    assert main(argv[:-2] + ["--groups", "4", "--out", folder]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "was made with config.n_groups=3 (now 4); delete it" in err[0]
    with filelock.FileLock(os.path.join(folder, ".lock")):
        assert main(argv) == 2
    assert "another process is writing" in capsys.readouterr().err
