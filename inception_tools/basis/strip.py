"""Visualization by distance minimization along one basis vector (Dey et al.).

For basis vector ``u`` with sample centre ``c``, the sampled vectors'
projections ``t_i = (A_i - c) . u`` span ``[t_min, t_max]``; ``m`` points
``x_j = c + t_j u`` are spaced uniformly on it. For each point, the ``k``
dataset receptive-field patches whose activation vectors are nearest (l2)
to ``x_j`` are shown: a column per point, nearest on top. Unlike
activation maximization, the other coordinates stay near the centre, so the
strip isolates one direction.

One pass over the dataset scores every position of every image against every
point of every requested vector at once; each image contributes its
nearest position only, so a point's ``k`` patches come from ``k`` different
images.
"""

import functools

import numpy as np
from PIL import Image

from inception_tools.errors import UserError
from inception_tools.examples import crop_box
from inception_tools.receptive_field import layer_field

TILE = 96


def line_points(basis, sample_rows, vector, m):
    """``(t [m], points [m, d])`` uniformly between the sample's min and max projection on ``vector``."""
    if m < 1:
        raise UserError("strip points (m) must be at least 1")
    u = basis.vectors[:, vector]
    t = (np.asarray(sample_rows, np.float64) - basis.center) @ u
    ts = np.linspace(t.min(), t.max(), m)
    return ts, basis.center + ts[:, None] * u


def nearest_per_image(acts, targets):
    """For [B, H, W, d] ``acts`` and [T, d] ``targets``: each image's nearest squared distance and position.

    Returns ``(dist [B, T], flat position [B, T])``.
    """
    flat = acts.reshape(len(acts), -1, acts.shape[-1]).astype(np.float64)
    d2 = (np.einsum("bpd,bpd->bp", flat, flat)[..., None] - 2 * flat @ targets.T
          + np.einsum("td,td->t", targets, targets))
    pos = d2.argmin(axis=1)
    return np.take_along_axis(d2, pos[:, None], 1)[:, 0], pos


def nearest_patches(net, dataset, targets, k, batch_size=32):
    """``(rows [T, k], positions [T, k, 2], distances [T, k])``: the k nearest images per target."""
    if k < 1 or k > len(dataset):
        raise UserError(f"strip: cannot pick {k} nearest patches from {len(dataset)} images")
    dists, positions, width = [], [], 1
    for _, images in dataset.batches(batch_size, desc=f"nearest patches {net.layer}"):
        acts = net.layer_activations(images)
        acts = acts if acts.ndim == 4 else acts[:, None, None]
        width = acts.shape[2]
        d, p = nearest_per_image(acts, targets)
        dists.append(d)
        positions.append(p)
    dists, positions = np.concatenate(dists), np.concatenate(positions)
    rows = np.stack([np.lexsort((np.arange(len(dists)), dists[:, t]))[:k] for t in range(targets.shape[0])])
    pos = np.take_along_axis(positions.T, rows, 1)
    return rows, np.stack([pos // width, pos % width], -1), np.sqrt(np.maximum(np.take_along_axis(dists.T, rows, 1), 0))


def patch_loader(model, dataset, layer):
    """``load(row, (y, x))`` -> the receptive-field crop of that position, resized to ``TILE`` px."""
    h, w = model.image_shape[:2]
    fields = (layer_field(model.graph_def, layer, model.input_name, h, 1),
              layer_field(model.graph_def, layer, model.input_name, w, 2))
    image = functools.lru_cache(maxsize=256)(lambda row: dataset.images(row, row + 1)[0])

    def load(row, yx):
        top, left, bottom, right = crop_box(*fields, int(yx[0]), int(yx[1]), h, w)
        crop = (np.clip(image(int(row))[top:bottom, left:right], 0, 1) * 255).round().astype(np.uint8)
        return np.asarray(Image.fromarray(crop).resize((TILE, TILE), Image.BILINEAR))

    return load


def grid_pixels(tiles, gap=2):
    """``tiles[row][column]`` (uint8 [TILE, TILE, 3]) as one uint8 image with white gaps."""
    rows, cols = len(tiles), len(tiles[0])
    grid = np.full((rows * (TILE + gap) - gap, cols * (TILE + gap) - gap, 3), 255, np.uint8)
    for r, line in enumerate(tiles):
        for c, tile in enumerate(line):
            grid[r * (TILE + gap):r * (TILE + gap) + TILE, c * (TILE + gap):c * (TILE + gap) + TILE] = tile
    return grid


def vector_name(basis, vector):
    """File stem of basis vector ``vector`` (0-based): ``pca_0001`` is PC 1."""
    return f"{basis.kind}_{vector + 1:04d}"


def check_vectors(basis_kind, vectors, size):
    """Refuse a 0-based vector outside a basis of ``size`` vectors."""
    for v in vectors:
        if not 0 <= v < size:
            raise UserError(f"basis vector {v + 1} out of range: the {basis_kind} basis has vectors 1-{size}")


def strips(net, dataset, basis, sample_rows, config):
    """The strips of ``config.vectors`` (0-based columns of ``basis``), in memory.

    Args:
        net, dataset: the layer's network and the images searched for the nearest patches.
        basis: the :class:`~inception_tools.activations.pca.Basis` whose vectors are drawn.
        sample_rows: the sampled activation vectors [n, d] the directions' lines span.
        config: a :class:`~inception_tools.basis.config.BasisConfig`: ``vectors``, ``strip_points`` (m points
            per line), ``strip_k`` (k nearest patches per point), ``batch_size``.

    Returns:
        ``{vector: (grid, meta)}``: the strip (uint8 [H, W, 3], a column per point, nearest on top) and
        what ``strips/<basis>_<vvvv>.json`` holds (basis, 1-based vector, projections, image ids, rows,
        positions, distances).
    """
    vectors, m, k = list(config.vectors), config.strip_points, config.strip_k
    check_vectors(basis.kind, vectors, len(basis))
    if not vectors:
        return {}
    lines = [line_points(basis, sample_rows, v, m) for v in vectors]
    rows, positions, dists = nearest_patches(net, dataset, np.concatenate([p for _, p in lines]), k,
                                            config.batch_size)
    load = patch_loader(net.model, dataset, net.layer)
    found = {}
    for i, (v, (ts, _)) in enumerate(zip(vectors, lines)):
        sl = slice(i * m, (i + 1) * m)
        r, p, d = rows[sl], positions[sl], dists[sl]
        grid = grid_pixels([[load(r[j, n], p[j, n]) for j in range(m)] for n in range(k)])
        found[v] = (grid, {"basis": basis.kind, "vector": v + 1, "t": ts.tolist(),
                           "ids": [[dataset.ids[x] for x in line] for line in r.tolist()], "rows": r.tolist(),
                           "positions": p.tolist(), "distances": d.tolist()})
    return found
