"""Neuron groups: NMF of one image's activations (Lucid's ChannelReducer).

The [H*W, C] activations (non-negative after ReLU) are factorised by
``lucid.misc.channel_reducer.ChannelReducer(n, "NMF")`` (scikit-learn's NMF
with its default start, deterministic "nndsvda" when ``n <= min(H*W, C)``,
and ``random_state=0``) into
``maps`` [H, W, n] >= 0 and ``directions`` [n, C] >= 0 with
``acts ~ maps @ directions``. Each group is shown by its spatial map and by a
render of Lucid's ``direction(layer, directions[i])``. A group's attribution
to a class is ``sum(g * maps[..., i] x directions[i])``, the linear
attribution of its share of the reconstruction (as in the notebooks).
"""

import dataclasses

import numpy as np

from inception_tools.errors import UserError
from inception_tools.lucid_compat import import_lucid


@dataclasses.dataclass
class NeuronGroups:
    maps: np.ndarray  # float32 [H, W, n], non-negative
    directions: np.ndarray  # float32 [n, C], non-negative

    def reconstruction(self):
        return np.einsum("hwn,nc->hwc", self.maps, self.directions)

    def relative_error(self, acts):
        """||acts - reconstruction|| / ||acts|| (Frobenius)."""
        acts = np.asarray(acts).reshape(self.reconstruction().shape)
        return float(np.linalg.norm(acts - self.reconstruction()) / np.linalg.norm(acts))

    def attribution(self, gradient):
        """[n]: each group's linear attribution for the gradient [H, W, C] of a class logit."""
        return np.einsum("hwn,nc,hwc->n", self.maps, self.directions, gradient.astype(np.float64))


def neuron_groups(acts, n_groups=6, max_iter=1000):
    """:class:`NeuronGroups` of ``acts`` ([1, H, W, C] or [H, W, C], non-negative), sorted by total map mass."""
    import_lucid()
    from lucid.misc.channel_reducer import ChannelReducer

    acts = np.asarray(acts, np.float64)
    acts = acts[0] if acts.ndim == 4 else acts
    if acts.min() < 0:
        raise UserError("NMF needs non-negative activations: use a layer after its ReLU")
    if not 1 <= n_groups <= min(acts.shape[0] * acts.shape[1], acts.shape[2]):
        raise UserError(f"the number of groups must be between 1 and {min(acts.shape[0] * acts.shape[1], acts.shape[2])}")
    reducer = ChannelReducer(n_groups, "NMF", random_state=0, max_iter=max_iter)
    maps = reducer.fit_transform(acts)
    directions = reducer._reducer.components_
    order = np.argsort(-maps.sum(axis=(0, 1)), kind="stable")
    return NeuronGroups(maps[..., order].astype(np.float32), directions[order].astype(np.float32))
