"""Importance of directions: principal components scored exactly as channels.

A direction is a unit vector ``u`` of the layer's d-dimensional channel space.
Ablating it sets every position's coordinate along ``u`` to that of the
centre ``c`` (the layer's dataset mean over images and positions for mean
ablation, zero for zero ablation), leaving the orthogonal complement alone:

    a' = a - ((a - c) . u) u

For ``u = e_k`` this is exactly channel k's ablation (``a'_k = c_k``), so a
direction's importance, newly wrong/right, McNemar p, delta log p, KL, L1,
intervals and reliability mean what they mean for a channel, and principal
components and channels rank on one scale. Each direction is one row of the
scan's outcome store (:mod:`.store`); the rows of a principal-component scan
are PC 1, 2, ... (highest variance first), written as ``feature_ind`` 0, 1, ...

The principal components are those of :mod:`inception_tools.basis`: one
activation vector of the layer's output per image at a seeded random position
(:func:`~inception_tools.activations.sample.sample_activations`), PCA by SVD
(:func:`~inception_tools.activations.pca.pca_basis`), so ``inception-tools basis``
with the same data, seed and batch size (the positions are drawn batch by
batch) has the same components.

Two engines fill the store, as for channels:

- :class:`ReferenceDirectionEngine`: one ``partial_run`` per direction and batch;
- :class:`DirectionEngine`: the layer once per batch, then a group of
  directions' projected copies stacked along the batch axis and fed to the
  imputation point (the fast engine's feed strategy). The rank-one shortcut
  through the next 1x1 convolutions does not carry over: a change along a
  direction mixes channels, and the mixed layers' max-pool branch does not
  commute with that.
"""

import numpy as np
from threadpoolctl import threadpool_limits

from inception_tools.errors import UserError
from inception_tools.importance.fast import FastEngine
from inception_tools.importance.outcomes import Engine

BASES = ("pca",)


def check_basis(kind):
    """``kind`` if it is a basis whose directions can be scored; else a one-line UserError."""
    if kind not in BASES:
        raise UserError(f"unknown basis {kind!r}; use pca (the neuron basis is the channels themselves: "
                        "score channels instead)")
    return kind


def principal_directions(net, dataset, components=None, seed=0, batch_size=32):
    """The top ``components`` principal components of ``net.layer`` over ``dataset`` (an ``activations.pca.Basis``)."""
    from inception_tools.activations.pca import check_components, pca_basis
    from inception_tools.activations.sample import sample_activations

    check_components(components, len(dataset), net.model.depth(net.layer))
    sample = sample_activations(net, dataset, seed, batch_size)
    return pca_basis(sample.layer, components)


def project_out(acts, vectors, center):
    """``acts`` [..., d] with its coordinate along each column of ``vectors`` [d, G] set to ``center``'s.

    Returns:
        float32 [G, *acts.shape]: one ablated copy per direction.

    The product runs on one BLAS thread: OpenBLAS sums a float32 product in another order with more
    threads, and a Ray worker (one thread) must give the driver's bytes.
    """
    with threadpool_limits(1, user_api="blas"):
        coords = (acts - center) @ vectors  # [..., G]
    directions = vectors.T.reshape((vectors.shape[1],) + (1,) * (acts.ndim - 1) + (vectors.shape[0],))
    return acts[None] - np.moveaxis(coords, -1, 0)[..., None] * directions


class _Directions:
    """What both direction engines share: the unit vectors (one per store row) and the centre."""

    def _set_directions(self, vectors, center):
        self.vectors = np.asarray(vectors, np.float32)
        self.center = np.asarray(center, np.float32)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != self.center.shape[0]:
            raise ValueError(f"directions {self.vectors.shape} do not fit a centre of {self.center.shape}")


class ReferenceDirectionEngine(_Directions, Engine):
    """One ``partial_run`` per direction and batch (the study's method, along a direction)."""

    name = "reference"

    def __init__(self, net, dataset, vectors, center, top_k, batch_size, label_free=True):
        super().__init__(net, dataset, center, top_k, batch_size, label_free)
        self._set_directions(vectors, center)

    def fill(self, store, rows, start, stop, progress=None):
        net = self.net
        for row in rows:
            u = self.vectors[:, row]
            for b0 in range(start, stop, self.batch_size):
                b1 = min(stop, b0 + self.batch_size)
                if store.pending([row], b0, b1):
                    handle = net.session.partial_run_setup([net.activations, net.logits], [net.images, net.imputed])
                    acts = net.session.partial_run(handle, net.activations, net.feed(self.dataset.images(b0, b1)))
                    with threadpool_limits(1, user_api="blas"):  # as in project_out
                        ablated = acts - ((acts - self.center) @ u)[..., None] * u
                    logits = net.session.partial_run(handle, net.logits, {net.imputed: ablated})
                    store.write([row], b0, self.outcomes(store, logits[None], b0))
                if progress is not None:
                    progress(b1 - b0)
            store.flush()

    def describe(self, n_rows, n_images):
        return f"reference engine along {n_rows} directions: one partial_run per direction and batch"


class DirectionEngine(_Directions, FastEngine):
    """The layer once per batch; directions' projected copies stacked and fed to the suffix."""

    name = "fast"

    def __init__(self, net, dataset, vectors, center, top_k, batch_size, label_free=True, group=None):
        super().__init__(net, dataset, center, top_k, batch_size, label_free, shortcut=False, group=group)
        self._set_directions(vectors, center)

    def variant_logits(self, batch, rows):
        acts = batch.activations
        stacked = project_out(acts, self.vectors[:, rows], self.center)
        return self.suffix.stacked_logits(batch, stacked)

    def describe(self, n_rows, n_images):
        group, work = self.plan(n_rows)
        return (f"fast engine along {n_rows} directions: {group} directions x {min(n_images, self.batch_size)} "
                f"images per run (projected layer fed to the suffix); memory about {work / 2**20:.0f} MB")
