"""Atlas parts on synthetic data: grid binning and averages, nearest patches, the config's checks, the canvas."""

import numpy as np
import pytest

from inception_tools.atlas import canvas, grid, patches
from inception_tools.atlas.stage import AtlasConfig
from inception_tools.errors import UserError


def test_points_fall_in_the_cell_of_their_floor_and_one_in_the_last():
    layout = np.array([[0.0, 0.0], [0.26, 0.74], [0.99, 0.5], [1.0, 1.0], [0.5, 0.25]])
    assert grid.bin_points(layout, 4).tolist() == [[0, 0], [2, 1], [2, 3], [3, 3], [1, 2]]


def test_cell_averages_and_counts_are_exact():
    rng = np.random.default_rng(0)
    n, g = 500, 5
    layout = rng.random((n, 2))
    vectors = rng.normal(size=(n, 7)).astype(np.float32) * 100 + 3
    found = grid.average_cells(vectors, layout, g, min_count=20)
    rows, cols = np.floor(layout[:, 1] * g).astype(int), np.floor(layout[:, 0] * g).astype(int)
    expected = {}
    for r in range(g):
        for c in range(g):
            mask = (rows == r) & (cols == c)
            if mask.sum() >= 20:
                expected[(r, c)] = (mask.sum(), vectors[mask].astype(np.float64).mean(axis=0).astype(np.float32), mask)
    assert [tuple(x) for x in found.cells.tolist()] == sorted(expected)  # row by row
    assert 0 < len(expected) < g * g  # some cells dropped, some kept
    for j, key in enumerate(found.cells.tolist()):
        count, mean, mask = expected[tuple(key)]
        assert found.counts[j] == count
        assert np.array_equal(found.means[j], mean)
        assert np.array_equal(np.flatnonzero(found.members == j), np.flatnonzero(mask))
    assert (found.members == -1).sum() == n - found.counts.sum()


def test_a_grid_too_fine_for_the_data_is_one_line():
    layout = np.linspace(0, 1, 30)[:, None].repeat(2, axis=1)
    with pytest.raises(UserError, match=r"no cell of the 20x20 grid holds 5 of the 30 vectors \(the fullest holds 2\)"):
        grid.average_cells(np.ones((30, 3)), layout, 20, 5)
    with pytest.raises(UserError, match="4 vectors cannot fill a cell of min_count = 5"):
        grid.check_enough(4, 5)


def test_nearest_patches_are_one_per_image_nearest_first():
    vectors = np.array([[0.0], [0.1], [5.0], [0.2], [0.05], [9.0]])
    rows = np.array([0, 0, 1, 2, 3, 3])
    found = patches.nearest_vectors(vectors, rows, np.array([[0.0], [9.0]]), 3)
    assert found.tolist() == [[0, 4, 3], [5, 2, 3]]
    assert patches.nearest_vectors(vectors, rows, np.array([[0.0]]), 10).shape == (1, 4)  # at most one per image


@pytest.mark.parametrize("field, value, message", [
    ("grid", 0, "grid must be an integer of at least 1, not 0"),
    ("per_image", 1.5, "per_image must be an integer"),
    ("seed", -1, "seed must be an integer of at least 0"),
    ("size", 4, "size must be an integer of at least 8"),
    ("min_count", True, "min_count must be an integer"),
    ("cossim_pow", float("nan"), "cossim_pow must be a finite number"),
    ("engine", "gpu", "unknown render engine 'gpu'"),
    ("layers", (), "layers must be one or more layer names"),
    ("layers", ("mixed3a", "mixed3a"), "layers are repeated"),
])
def test_bad_settings_are_refused_naming_the_field(field, value, message):
    settings = {"layers": ("mixed3a",), field: value}
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        AtlasConfig(**settings)


def test_layers_given_as_one_string_are_split():
    assert AtlasConfig(layers="mixed4c, mixed5b").layers == ("mixed4c", "mixed5b")
    assert AtlasConfig(layers=["mixed4c"]).layers == ("mixed4c",)


def test_canvas_places_renders_at_their_cells_sized_by_density():
    renders = np.stack([np.full((4, 4, 3), v) for v in (0.0, 0.5)])
    cells, counts = np.array([[0, 1], [2, 0]]), np.array([16, 1])
    full = canvas.layer_canvas(renders, cells, counts, 3)
    assert full.shape == (12, 12, 3)
    assert (full[0:4, 4:8] == 0).all() and (full[8:12, 0:4] == 128).all() and (full[0:4, 0:4] == 255).all()
    sized = canvas.layer_canvas(renders, cells, counts, 3, by_density=True)
    assert (sized[0:4, 4:8] == 0).all()  # the fullest cell fills its square
    assert (sized[8:12, 0:4] != 255).sum() == 3 and (sized[9, 1] == 128).all()  # 1/16 of the count: 1/4 of the side
