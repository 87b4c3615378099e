"""Semantic dictionary: at each position of a layer, its strongest channels."""

import dataclasses

import numpy as np

from inception_tools.errors import UserError


@dataclasses.dataclass
class SemanticDictionary:
    """Top channels per position of one image's activations.

    ``channels[y, x]`` are the ``n`` channels with the largest activations at
    ``(y, x)``, strongest first, and ``values[y, x]`` their activations.
    """

    channels: np.ndarray  # int64 [H, W, n]
    values: np.ndarray  # float32 [H, W, n]

    def unique_channels(self):
        """Every channel the dictionary shows, once, in increasing order."""
        return sorted(int(c) for c in np.unique(self.channels))


def semantic_dictionary(acts, top_n):
    """The :class:`SemanticDictionary` of ``acts`` ([H, W, C] or [1, H, W, C]).

    Ties are broken by the lower channel index (a stable sort).
    """
    acts = np.asarray(acts)
    if acts.ndim == 4:
        if acts.shape[0] != 1:
            raise UserError("a semantic dictionary is of one image's activations")
        acts = acts[0]
    if not 1 <= top_n <= acts.shape[-1]:
        raise UserError(f"top-n must be between 1 and the layer's {acts.shape[-1]} channels")
    order = np.argsort(-acts, axis=-1, kind="stable")[..., :top_n]
    return SemanticDictionary(order.astype(np.int64), np.take_along_axis(acts, order, axis=-1).astype(np.float32))
