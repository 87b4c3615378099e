"""First-order estimates of every channel's ablation effect, one forward and a few backward passes per batch.

Ablating channel c replaces its activations ``a[..., c]`` by ``v_c`` (its dataset mean, or zero); the
change is ``delta_c = v_c - a[..., c]`` at every position. To first order, a function f of the
output changes by ``sum over positions of df/da[..., c] * delta_c``, for every channel at once
from one gradient of f with respect to the layer (the imputation point of
:class:`~inception_tools.surgery.Network`). Per image and channel this gives:

- ``delta-logprob``: the change of log p(true class) (over every output, as the exact scan's), to
  first order; its contribution is minus that.
- ``kl``: KL(p || p_ablated) has no first-order term (it is zero and minimal at no change); to second
  order it is ``1/2 sum_j p_j (change of log p_j)^2`` over the real classes. The surrogate keeps the
  ``classes`` most probable classes of each image, each change to first order.
- ``l1``: ``sum_j |p_j - p_ablated_j|`` ~ ``sum_j p_j |change of log p_j|`` over the same classes.
- ``importance`` (whether the true class leaves the top k) is an integer with no first-order form;
  its surrogate is the first-order drop of log p(true class), which tends to come before a miss.

Directions (:mod:`.directions`): ablating unit vector ``u`` sets every position's coordinate along
``u`` to the centre's, a change ``((c - a) . u) u``; to first order f changes by the sum over
positions of ``(df/da . u) * ((c - a) . u)``, for every principal component at once from the same
gradients (a channel is the case ``u = e_c``).

These are the controls of :mod:`.control_variate`: their bias does not matter there, only how
closely they follow the exact per-image outcomes.
"""

import numpy as np
import tensorflow as tf

from inception_tools.importance.outcomes import real_classes
from inception_tools.surgery import Network
from inception_tools.tables import MEASURES

tf1 = tf.compat.v1
CLASSES = 4  # most probable classes of the KL and L1 surrogates


class FirstOrder:
    """The gradient graph on a :class:`~inception_tools.surgery.Network`, built once (the network then
    serves nothing else: its layer gains the gradient ops as consumers)."""

    def __init__(self, net, classes=CLASSES):
        real = np.flatnonzero(real_classes(net.model))
        self.net = net
        self.classes = min(classes, len(real))
        with net.graph.as_default():
            self.labels = tf1.placeholder(tf.int32, [None], name="first_order_labels")
            self.top = tf1.placeholder(tf.int32, [None, self.classes], name="first_order_top")
            logits = tf.cast(net.logits, tf.float32)
            rows = tf.range(tf.shape(logits)[0])
            every = tf.nn.log_softmax(logits)
            true = tf.reduce_sum(tf.gather_nd(every, tf.stack([rows, self.labels], axis=1)))
            on_real = tf.nn.log_softmax(tf.gather(logits, real, axis=1))
            tops = [tf.reduce_sum(tf.gather_nd(on_real, tf.stack([rows, self.top[:, j]], axis=1)))
                    for j in range(self.classes)]
            self.gradients = [tf.gradients(f, net.imputed)[0] for f in [true, *tops]]

    def contributions(self, images, labels, base_real_logp, values, vectors=None):
        """Surrogate contributions of every channel (or direction) on one batch.

        Args:
            images: float32 [B, H, W, 3] in [0, 1]; labels: int [B] true classes.
            base_real_logp: float [B, K] unablated log-probabilities over the real classes.
            values: float [C], the value each ablated channel takes (with ``vectors``: the centre).
            vectors: float [C, D] unit directions as columns (None: the channels themselves).

        Returns:
            dict measure name -> float64 [C or D, B] (larger = more important, as the exact contributions).
        """
        p = np.exp(np.asarray(base_real_logp, np.float64))
        top = np.argsort(-p, axis=1, kind="stable")[:, :self.classes]
        feed = dict(self.net.feed(images))
        feed.update({self.labels: np.asarray(labels, np.int32), self.top: top.astype(np.int32)})
        acts, *grads = self.net.session.run([self.net.activations, *self.gradients], feed)
        delta = np.asarray(values, np.float32) - acts  # [B, ..., C]
        axes = tuple(range(1, acts.ndim - 1))  # the positions (none for a dense layer)
        if vectors is not None:  # coordinates along the directions: g . u and (c - a) . u
            vectors = np.asarray(vectors, np.float32)
            delta, grads = delta @ vectors, [g @ vectors for g in grads]
        changes = [(g * delta).sum(axis=axes).astype(np.float64) for g in grads]  # each [B, C or D]
        weight = np.take_along_axis(p, top, axis=1)  # [B, classes]
        on_top = np.stack(changes[1:], axis=-1)  # [B, C, classes]
        drop = -changes[0]
        surrogate = {
            "importance": drop,
            "delta-logprob": drop,
            "kl": 0.5 * (weight[:, None, :] * on_top ** 2).sum(axis=-1),
            "l1": (weight[:, None, :] * np.abs(on_top)).sum(axis=-1),
        }
        return {name: surrogate[name].T for name in MEASURES}


def first_order_pass(net, dataset, base_real_logp, values, batch_size, vectors=None, classes=CLASSES):
    """Surrogate contributions of every channel (or column of ``vectors``) on every image of ``dataset``.

    The gradients live in a graph of their own (a second import of ``net``'s model): the engines
    read the consumers of the layer in ``net``'s graph, where gradient ops would be consumers too.

    Returns:
        dict measure name -> float32 [C or D, N].
    """
    own = Network(net.model, net.layer, net.pixel_scaling)
    try:
        graph = FirstOrder(own, classes)
        parts = {name: [] for name in MEASURES}
        for start, images in dataset.batches(batch_size, desc=f"first order {net.layer}"):
            stop = start + len(images)
            batch = graph.contributions(images, dataset.labels[start:stop], base_real_logp[start:stop], values,
                                        vectors)
            for name in MEASURES:
                parts[name].append(batch[name].astype(np.float32))
    finally:
        own.close()
    return {name: np.concatenate(parts[name], axis=1) for name in MEASURES}
