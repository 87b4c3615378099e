"""A grid over the layout and each cell's average vector and count.

The unit square of the normalized layout is cut into ``grid x grid`` cells.
A point at ``(u, v)`` falls in column ``min(floor(u * grid), grid - 1)`` and
row ``min(floor(v * grid), grid - 1)`` (so ``u = 1`` is in the last column,
as in Lucid's ``bin_laid_out_activations``). A cell holding at least
``min_count`` vectors is kept, with the mean of its vectors (float64 sums,
stored as float32) and its count; the other cells stay empty. Cells are
listed row by row (row, then column).
"""

import dataclasses

import numpy as np

from inception_tools.errors import UserError


@dataclasses.dataclass
class Cells:
    """The kept cells of one layer's grid."""

    cells: np.ndarray  # int64 [m, 2]: (row, column)
    counts: np.ndarray  # int64 [m]: vectors averaged
    means: np.ndarray  # float32 [m, d]: their average
    members: np.ndarray  # int64 [n]: each vector's cell index in ``cells``, -1 when its cell was not kept


def bin_points(layout, grid):
    """int64 [n, 2]: the (row, column) of each point of ``layout`` [n, 2] (u, v in [0, 1])."""
    layout = np.asarray(layout, np.float64)
    index = np.clip(np.floor(layout * grid), 0, grid - 1).astype(np.int64)
    return index[:, ::-1].copy()


def average_cells(vectors, layout, grid, min_count):
    """The cells of ``grid`` holding at least ``min_count`` of the vectors, with their means and counts.

    Args:
        vectors: float [n, d].
        layout: float [n, 2] in [0, 1] (``u`` then ``v``).
        grid: cells per side.
        min_count: fewest vectors a kept cell averages.

    Returns:
        :class:`Cells`.

    Raises:
        UserError: no cell reaches ``min_count`` (the grid is too fine for the data).
    """
    binned = bin_points(layout, grid)
    flat = binned[:, 0] * grid + binned[:, 1]
    counts = np.bincount(flat, minlength=grid * grid)
    kept = np.flatnonzero(counts >= min_count)
    if not len(kept):
        raise UserError(f"no cell of the {grid}x{grid} grid holds {min_count} of the {len(vectors)} vectors "
                        f"(the fullest holds {counts.max()}): use a coarser grid, a smaller min_count or more vectors")
    lookup = np.full(grid * grid, -1, np.int64)
    lookup[kept] = np.arange(len(kept))
    members = lookup[flat]
    sums = np.zeros((len(kept), vectors.shape[1]), np.float64)
    inside = members >= 0
    np.add.at(sums, members[inside], np.asarray(vectors, np.float64)[inside])
    means = (sums / counts[kept][:, None]).astype(np.float32)
    return Cells(np.stack([kept // grid, kept % grid], axis=1).astype(np.int64), counts[kept].astype(np.int64),
                 means, members)


def check_enough(n_vectors, min_count):
    """UserError when ``n_vectors`` cannot fill even one cell of ``min_count`` (checked before any work)."""
    if n_vectors < min_count:
        raise UserError(f"{n_vectors} vectors cannot fill a cell of min_count = {min_count}: use more images, "
                        "more positions per image or a smaller min_count")
