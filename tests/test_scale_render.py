"""Render calls as Ray tasks: the same PNG and NPY bytes as one process, resumable, from the CLI."""

import pytest

from inception_tools import renders, runner
from inception_tools.cli import main
from inception_tools.layout import channel_file, visualization_dir
from inception_tools.scale.recipe import Recipe
from inception_tools.scale.render import ray_renderer

LAYER = "mixed3a"
CHANNELS = (5, 1, 2, 7, 3)
RECIPE = dict(steps=6, size=24, per_call=2)


def _bytes(out_dir, channels):
    folder = visualization_dir(out_dir, LAYER, "diversity")
    return [open(channel_file(folder, c, ext), "rb").read() for c in channels for ext in (".png", ".npy")]


def _run(model, out_dir, channels, distribute=None):
    folder = visualization_dir(out_dir, LAYER, "diversity")
    config = renders.prepare(model, renders.RendersConfig(layer=LAYER, channels=channels, **RECIPE), folder)
    return runner.run(renders.STAGE, config, folder, model=model, distribute=distribute)


def test_ray_renders_are_byte_identical_to_one_process_and_resume(embedded_model, local_ray, tmp_path):
    ray, _ = local_ray
    _run(embedded_model, tmp_path / "one", CHANNELS)
    hook = ray_renderer(Recipe(embedded_model.name, embedded_model.path, LAYER), ray)
    _run(embedded_model, tmp_path / "ray", CHANNELS[:2], hook)
    _run(embedded_model, tmp_path / "ray", CHANNELS, hook)
    assert _bytes(tmp_path / "one", CHANNELS) == _bytes(tmp_path / "ray", CHANNELS)


@pytest.mark.slow
def test_cli_visualize_with_ray_retries_a_killed_worker(local_ray, tmp_path):
    _, crash = local_ray
    base = ["visualize", "--channels", "0-3", "--steps", "4", "--size", "24", "--per-call", "2"]
    assert main(base + ["--out", str(tmp_path / "one")]) == 0
    crash.write_text("")  # the first call's worker dies once: Ray retries the call
    assert main(base + ["--out", str(tmp_path / "ray"), "--ray"]) == 0
    assert not crash.exists()
    assert _bytes(tmp_path / "one", range(4)) == _bytes(tmp_path / "ray", range(4))
