"""The 2-D layout of the sampled vectors: UMAP, as Lucid's activation-atlas recipe runs it.

``umap.UMAP(n_components=2, n_neighbors=50, min_dist=0.05, metric="cosine")``
(the recipe's ``aligned_umap`` defaults; ``n_neighbors`` is capped at
``n - 1`` for small samples), then the recipe's ``normalize_layout``: each
axis clipped to its 1st-99th percentile widened by 10% on both sides, then
scaled to [0, 1], so a few outliers do not squeeze the rest into a corner.

Reproducibility: with ``random_state`` umap-learn runs its optimisation in one
thread and gives the same layout for the same vectors, seed and library
versions (measured: byte-identical layouts in two processes); without a seed
it would run in parallel and differ from run to run. Other umap-learn, numba
or BLAS versions may give another (equally valid) layout.
"""

import warnings

import numpy as np

from inception_tools.errors import UserError
from inception_tools.lucid_compat import import_lucid

N_NEIGHBORS = 50
MIN_DIST = 0.05
METRIC = "cosine"


def umap_layout(vectors, seed=0, n_neighbors=N_NEIGHBORS, min_dist=MIN_DIST):
    """float64 [n, 2] in [0, 1]: the normalized UMAP layout of ``vectors`` [n, d].

    Args:
        vectors: the sampled activation vectors.
        seed: UMAP's ``random_state`` (see the module docstring).
        n_neighbors: UMAP's neighbourhood size (capped at n - 1).
        min_dist: UMAP's minimum distance between laid-out points.

    Returns:
        The layout, each axis in [0, 1].
    """
    n = len(vectors)
    if n < 3:
        raise UserError(f"a layout needs at least 3 vectors, not {n}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap's notes: n_jobs overridden by random_state, numba, ...
        import umap

        reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, n - 1), min_dist=min_dist, metric=METRIC,
                            random_state=seed)
        layout = reducer.fit_transform(np.asarray(vectors, np.float32))
    import_lucid()
    from lucid.recipes.activation_atlas.layout import normalize_layout

    return normalize_layout(np.asarray(layout, np.float64))
