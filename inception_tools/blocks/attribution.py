"""Attribution of a layer's activations on one image to output classes.

Two measures, per spatial position and per channel, for the logit (the
pre-softmax output) of a class:

- linear (Building Blocks): ``g * a``, the gradient of the logit with respect
  to the layer's activations ``a`` times ``a``; per position = summed over
  channels, per channel = summed over positions (so both sum to the same
  total). It is the first-order estimate of the logit's drop when ``a`` is
  set to zero; ``g * (a - b)`` is the estimate for the baseline ``b``.
- ablation (exact): ``logit(a) - logit(a with one channel, or one
  position's channel vector, replaced by the baseline)``, positive when the
  unit supports the class. The baseline is each channel's mean over a
  dataset (over images and positions) or zero when no dataset is given.
  Variants are stacked along the batch axis and fed to the
  :class:`~inception_tools.surgery.Network`'s imputation point, so only the
  network after the layer runs.

Agreement between the two: Spearman's rho with its p-value (scipy).
"""

import dataclasses

import numpy as np
import tensorflow as tf
from scipy import stats

from inception_tools.errors import UserError

tf1 = tf.compat.v1


@dataclasses.dataclass
class Agreement:
    """Spearman rank correlation of two attributions over the same units."""

    rho: float
    p_value: float
    n: int

    @classmethod
    def of(cls, a, b):
        result = stats.spearmanr(np.ravel(a), np.ravel(b))
        return cls(float(result.statistic), float(result.pvalue), int(np.size(a)))


class ClassGradients:
    """Gradients of chosen class logits with respect to a Network's layer.

    Adds two ops to ``net.graph``: the selected logit of each batch row and
    its gradient with respect to ``net.imputed`` (the value the rest of the
    network reads).
    """

    def __init__(self, net):
        self.net = net
        with net.graph.as_default():
            self.classes = tf1.placeholder(tf.int32, [None], name="blocks_classes")
            selected = tf.gather(net.logits, self.classes, axis=1, batch_dims=1)
            self.gradient = tf1.gradients(tf.reduce_sum(selected), net.imputed)[0]

    def __call__(self, acts, classes):
        """float32 [len(classes), H, W, C]: d logit[class] / d acts, for ``acts`` [1, H, W, C]."""
        classes = np.asarray(classes, np.int32)
        batch = np.repeat(acts, len(classes), axis=0)
        return self.net.session.run(self.gradient, {self.net.imputed: batch, self.classes: classes})


def logits_from_layer(net, acts, batch_size=64):
    """Logits [N, classes] of the network run from layer activations ``acts`` [N, H, W, C]."""
    return np.concatenate([net.session.run(net.logits, {net.imputed: acts[i:i + batch_size]})
                           for i in range(0, len(acts), batch_size)])


def channel_variants(acts, baseline, channels):
    """[len(channels), H, W, C]: ``acts`` [1, H, W, C] with channel ``c`` set to ``baseline[c]``."""
    variants = np.repeat(acts, len(channels), axis=0)
    for i, c in enumerate(channels):
        variants[i, ..., c] = baseline[c]
    return variants


def position_variants(acts, baseline, positions):
    """[len(positions), H, W, C]: ``acts`` with the vector at ``(y, x)`` set to ``baseline``."""
    variants = np.repeat(acts, len(positions), axis=0)
    for i, (y, x) in enumerate(positions):
        variants[i, y, x, :] = baseline
    return variants


def ablation_drops(net, acts, baseline, classes, batch_size=64, progress=None):
    """Exact logit drops of ``classes`` when each channel, or each position, is set to the baseline.

    Args:
        net: a :class:`~inception_tools.surgery.Network` on the layer.
        acts: float32 [1, H, W, C], the layer's activations on the image.
        baseline: float [C] (channel means, or zeros).
        classes: output indices.
        batch_size: variants per run.
        progress: optional callable(n) told how many variants finished.

    Returns:
        ``(by_channel [K, C], by_position [K, H, W])``: logit(acts) - logit(variant).
    """
    _, height, width, depth = acts.shape
    classes = list(classes)
    base = logits_from_layer(net, acts)[0, classes]
    positions = [(y, x) for y in range(height) for x in range(width)]
    drops = []
    for variants_of, units in ((channel_variants, list(range(depth))), (position_variants, positions)):
        rows = []
        for start in range(0, len(units), batch_size):
            chunk = units[start:start + batch_size]
            rows.append(logits_from_layer(net, variants_of(acts, baseline, chunk), batch_size)[:, classes])
            if progress is not None:
                progress(len(chunk))
        drops.append((base[None, :] - np.concatenate(rows)).T)
    return drops[0], drops[1].reshape(len(classes), height, width)


@dataclasses.dataclass
class ClassAttribution:
    """Every attribution of one layer to one class (see the module docstring)."""

    label: int
    logit: float
    linear_position: np.ndarray  # [H, W]  sum_c g*a
    linear_channel: np.ndarray  # [C]     sum_xy g*a
    baseline_channel: np.ndarray  # [C]   sum_xy g*(a - b)
    ablation_channel: np.ndarray  # [C]
    ablation_position: np.ndarray  # [H, W]
    gradient: np.ndarray  # [H, W, C]

    def channel_agreement(self):
        return Agreement.of(self.linear_channel, self.ablation_channel)

    def baseline_agreement(self):
        return Agreement.of(self.baseline_channel, self.ablation_channel)

    def position_agreement(self):
        return Agreement.of(self.linear_position, self.ablation_position)


def attribute(net, acts, classes, baseline, batch_size=64, progress=None):
    """:class:`ClassAttribution` of the layer of ``net`` to each of ``classes``.

    Args:
        net: a :class:`~inception_tools.surgery.Network` on the layer.
        acts: float32 [1, H, W, C] activations of the image.
        classes: output indices.
        baseline: float [C], the ablation value of each channel.
        batch_size, progress: see :func:`ablation_drops`.
    """
    if acts.shape[0] != 1:
        raise UserError("attribution takes the activations of one image")
    classes = list(classes)
    logits = logits_from_layer(net, acts)[0]
    gradients = ClassGradients(net)(acts, classes)
    by_channel, by_position = ablation_drops(net, acts, baseline, classes, batch_size, progress)
    result = []
    for k, label in enumerate(classes):
        g = gradients[k].astype(np.float64)
        linear = g * acts[0]
        result.append(ClassAttribution(
            label=int(label), logit=float(logits[label]),
            linear_position=linear.sum(axis=2), linear_channel=linear.sum(axis=(0, 1)),
            baseline_channel=(g * (acts[0] - baseline)).sum(axis=(0, 1)),
            ablation_channel=by_channel[k], ablation_position=by_position[k], gradient=gradients[k],
        ))
    return result
