"""The unablated baseline, channel means, and the reference engine.

The reference is the study's method, kept simple on purpose: for every channel
and every batch, one ``partial_run`` computes the layer, imputes the channel
and runs the rest of the network. Faster engines are checked against it.

An engine fills an :class:`~inception_tools.importance.store.OutcomeStore`:
``engine.fill(store, channels, start, stop, progress)`` computes every pending
record of ``channels`` for the images ``start:stop`` of the scan's dataset.
"""

import dataclasses

import numpy as np

from inception_tools.data.dataset import is_placeholder
from inception_tools.importance.measures import image_outcomes, real_log_softmax
from inception_tools.importance.stats import topk_correct, true_logprob


@dataclasses.dataclass
class Baseline:
    correct: np.ndarray  # bool [N]: true class in the top k, unablated
    logprob: np.ndarray  # float64 [N]: log-probability of the true class
    real_logp: np.ndarray  # float64 [N, K]: log-probabilities over the K real classes (or MappedRows of them)
    accuracy: dict  # {"top1": ..., "top5": ..., "top10": ...}


def real_classes(model):
    """bool [outputs]: which outputs of ``model`` are real classes (not dummy or unused)."""
    return np.array([not is_placeholder(label_id) for label_id in model.label_ids])


def channel_means(net, dataset, batch_size):
    """Mean of each channel of ``net.layer`` over all images and positions (float64)."""
    total, count = None, 0
    for _, images in dataset.batches(batch_size, desc=f"mean of {net.layer}"):
        acts = net.layer_activations(images).astype(np.float64)
        axes = tuple(range(acts.ndim - 1))
        batch_sum = acts.sum(axis=axes)
        total = batch_sum if total is None else total + batch_sum
        count += acts.size // acts.shape[-1]
    return total / count


def baseline(net, dataset, top_k, batch_size, real_logp=None):
    """The unablated pass, batch by batch (memory: one batch of logits).

    Args:
        real_logp: where the log-probabilities over the real classes go, a
            :class:`~inception_tools.mapped.MappedRows` of [N, K]; None: an array in memory.
    """
    real = real_classes(net.model)
    correct, logprob, hits, kept = [], [], {k: 0 for k in (1, 5, 10)}, []
    for start, images in dataset.batches(batch_size, desc="unablated"):
        logits = net.unablated_logits(images)
        labels = dataset.labels[start:start + len(logits)]
        for k in hits:
            hits[k] += int(topk_correct(logits, labels, k).sum())
        correct.append(topk_correct(logits, labels, top_k))
        logprob.append(true_logprob(logits, labels))
        batch_logp = real_log_softmax(logits, real)
        kept.append(batch_logp) if real_logp is None else real_logp.write(start, batch_logp)
    accuracy = {f"top{k}": hits[k] / len(dataset) for k in hits}
    real_logp = np.concatenate(kept) if real_logp is None else real_logp
    return Baseline(np.concatenate(correct), np.concatenate(logprob), real_logp, accuracy)


class Engine:
    """What both engines share: the network, imputed values, top-k and the measures to compute."""

    name = "engine"

    def __init__(self, net, dataset, values, top_k, batch_size, label_free=True):
        if batch_size < 1:
            raise ValueError("batch size must be at least 1")
        self.net = net
        self.dataset = dataset
        self.values = np.asarray(values, np.float32)
        self.top_k = top_k
        self.batch_size = batch_size
        self.label_free = label_free
        self.real = real_classes(net.model)

    def outcomes(self, store, logits, start):
        """Per-image outcomes of ``logits`` [G, B, classes] for the images from ``start``."""
        stop = start + logits.shape[1]
        return image_outcomes(logits, store.labels[start:stop], self.top_k, store.base_logprob[start:stop],
                              np.asarray(store.base_real_logp[start:stop]), self.real, self.label_free)

    def describe(self, n_channels, n_images):
        return f"{self.name} engine"


class ReferenceEngine(Engine):
    """One ``partial_run`` per channel and batch (the study's method)."""

    name = "reference"

    def fill(self, store, channels, start, stop, progress=None):
        for channel in channels:
            row = store.row_of[channel]
            for b0 in range(start, stop, self.batch_size):
                b1 = min(stop, b0 + self.batch_size)
                if store.pending([row], b0, b1):
                    images = self.dataset.images(b0, b1)
                    logits = self.net.imputed_logits(images, [channel], self.values[channel])
                    store.write([row], b0, self.outcomes(store, logits[None], b0))
                if progress is not None:
                    progress(b1 - b0)
            store.flush()
