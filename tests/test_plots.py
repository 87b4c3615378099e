"""The importance histogram: a PNG, with the groups drawn in their colours when given."""

import csv

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from inception_tools.errors import UserError
from inception_tools.plots import GROUP_COLORS, importance_histogram


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def importance(tmp_path):
    rows = [["InceptionV1", "mixed5a", c, c / 100] for c in range(100)]
    return write_csv(tmp_path / "importance.csv", ["model", "layer", "feature_ind", "importance"], rows)


def has_color(png, color):
    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    target = np.round(np.array(to_rgb(color)) * 255)
    return bool(np.any(np.all(np.abs(pixels - target) <= 2, axis=1)))


def test_histogram_without_groups(importance, tmp_path):
    out = importance_histogram(importance, tmp_path / "figs" / "hist.png")
    assert Image.open(out).format == "PNG"
    assert not any(has_color(out, c) for c in GROUP_COLORS.values())
    assert [p.name for p in (tmp_path / "figs").iterdir()] == ["hist.png"]


def test_histogram_marks_groups(importance, tmp_path):
    groups = write_csv(tmp_path / "groups.csv", ["order", "feature_ind", "group", "importance", "rank"],
                       [[1, 99, "top", 0.99, 1], [2, 50, "middle", 0.5, 50]])
    out = importance_histogram(importance, tmp_path / "hist.png", groups_csv=groups)
    assert all(has_color(out, c) for c in GROUP_COLORS.values())


def test_groups_outside_the_layer(importance, tmp_path):
    groups = write_csv(tmp_path / "groups.csv", ["feature_ind", "group"], [[500, "top"]])
    with pytest.raises(UserError, match="channel 500 is not in"):
        importance_histogram(importance, tmp_path / "hist.png", groups_csv=groups)
    assert not (tmp_path / "hist.png").exists()
