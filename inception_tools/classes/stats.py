"""Streaming per-class statistics of the units of one layer.

For every class ``k`` and unit ``c`` (a channel of a convolutional layer, a
unit of a dense one) :class:`ClassAccumulator` keeps, over the images of class ``k``
seen so far: their number ``n[k]``, the mean and the sum of squared
deviations ``m2[k, c]`` of the unit's value (float64, merged batch by batch
with Chan et al.'s pairwise update, so no sums of squares cancel), and how
many of them activate the unit above a threshold (``count[k, c]``). Memory is
O(classes x units), whatever the number of images.

For the uncertainty of the class-to-class distances it also keeps a Poisson
bootstrap: replicate ``b`` weighs image ``i`` by ``w[b, i] ~ Poisson(1)``,
drawn from a generator seeded by ``(seed, i)``, and accumulates weighted sums;
each replicate's class means give one draw of every distance (see
:mod:`.compare`). The draws do not depend on the batch size or on where a run
was interrupted.

:func:`unit_values` turns a batch of a layer's activations into one value per
image and unit.
"""

import numpy as np

from inception_tools.errors import UserError

POSITIONS = ("mean", "center", "max")


def unit_values(acts, position="mean"):
    """Per-image unit values [n, C] of post-ReLU activations ``acts`` [n, h, w, C] or [n, C].

    ``position``: ``"mean"`` (spatial mean), ``"center"`` (position ``(h // 2, w // 2)``)
    or ``"max"`` (spatial maximum); a dense layer's [n, C] is returned as it is.
    """
    if position not in POSITIONS:
        raise UserError(f"unknown position {position!r}; choose one of {', '.join(POSITIONS)}")
    acts = np.asarray(acts, np.float64)
    if acts.ndim == 2:
        return acts
    if position == "mean":
        return acts.mean(axis=(1, 2))
    if position == "max":
        return acts.max(axis=(1, 2))
    return acts[:, acts.shape[1] // 2, acts.shape[2] // 2, :]


def confident_correct(probs, labels, threshold):
    """Images whose top-1 class is the true one with probability at least ``threshold`` (bool [n])."""
    true = probs[np.arange(len(labels)), labels]
    return (probs.argmax(axis=1) == labels) & (true >= threshold)


def image_weights(seed, rows, replicates):
    """Poisson(1) bootstrap weights [replicates, len(rows)], image ``i``'s column seeded by ``(seed, i)``."""
    columns = [np.random.default_rng([seed, int(i)]).poisson(1.0, replicates) for i in rows]
    return np.stack(columns, axis=1).astype(np.float64) if columns else np.zeros((replicates, 0))


class ClassAccumulator:
    """Counts, means, squared deviations and active counts of ``units`` per class, merged batch by batch."""

    FIELDS = ("n", "mean", "m2", "count", "boot_sum", "boot_weight")

    def __init__(self, n_classes, units, active_threshold=0.0, replicates=0, seed=0):
        self.active_threshold = active_threshold
        self.replicates = replicates
        self.seed = seed
        self.n = np.zeros(n_classes, np.int64)
        self.mean = np.zeros((n_classes, units))
        self.m2 = np.zeros((n_classes, units))
        self.count = np.zeros((n_classes, units), np.int64)
        self.boot_sum = np.zeros((replicates, n_classes, units))
        self.boot_weight = np.zeros((replicates, n_classes))

    def update(self, values, classes, rows):
        """Merge a batch: ``values`` [n, C], class position ``classes`` [n] (-1: not counted), image ``rows`` [n]."""
        values = np.asarray(values, np.float64)
        for k in np.unique(classes[classes >= 0]):
            mine = classes == k
            x = values[mine]
            nb, na = len(x), self.n[k]
            mean_b = x.mean(axis=0)
            delta = mean_b - self.mean[k]
            total = na + nb
            self.mean[k] += delta * nb / total
            self.m2[k] += ((x - mean_b) ** 2).sum(axis=0) + delta**2 * na * nb / total
            self.n[k] = total
            self.count[k] += (x > self.active_threshold).sum(axis=0)
            if self.replicates:
                weights = image_weights(self.seed, rows[mine], self.replicates)
                self.boot_sum[:, k] += weights @ x
                self.boot_weight[:, k] += weights.sum(axis=1)

    @property
    def variance(self):
        """Population variance (ddof 0) per class and unit; 0 for classes without images."""
        return self.m2 / np.maximum(self.n, 1)[:, None]

    @property
    def active_fraction(self):
        """Fraction of the class's images that activate each unit: count / n (0 without images)."""
        return self.count / np.maximum(self.n, 1)[:, None]

    def contributing(self, min_fraction=0.0):
        """Units active in more than ``min_fraction`` of the class's images (bool [classes, C]).

        With the default 0 a unit contributes when any image of the class activates it.
        """
        return (self.count > 0) & (self.active_fraction >= min_fraction)

    def boot_means(self):
        """Class means of every bootstrap replicate [replicates, classes, C] (NaN where a weight is 0)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.boot_sum / self.boot_weight[..., None]

    def state(self, prefix):
        return {f"{prefix}/{name}": getattr(self, name) for name in self.FIELDS}

    def load(self, state, prefix):
        for name in self.FIELDS:
            setattr(self, name, np.array(state[f"{prefix}/{name}"]))
