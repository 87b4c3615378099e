"""Per-image outcomes: unablated, and with one channel imputed (the reference engine).

The reference is the study's method, kept simple on purpose: for every channel
and every batch, one ``partial_run`` computes the layer, imputes the channel
and runs the rest of the network. Faster engines are checked against it.
"""

import dataclasses

import numpy as np

from inception_tools.importance.stats import topk_correct, true_logprob


@dataclasses.dataclass
class Baseline:
    correct: np.ndarray  # bool [N]: true class in the top k, unablated
    logprob: np.ndarray  # float64 [N]: log-probability of the true class
    accuracy: dict  # {"top1": ..., "top5": ..., "top10": ...}


def channel_means(net, dataset, batch_size):
    """Mean of each channel of ``net.layer`` over all images and positions (float64); a dense unit's over images."""
    total, count = None, 0
    for _, images in dataset.batches(batch_size, desc=f"mean of {net.layer}"):
        acts = net.layer_activations(images).astype(np.float64)
        batch_sum = acts.sum(axis=tuple(range(acts.ndim - 1)))
        total = batch_sum if total is None else total + batch_sum
        count += acts.size // acts.shape[-1]
    return total / count


def baseline(net, dataset, top_k, batch_size):
    logits = np.concatenate(
        [net.unablated_logits(images) for _, images in dataset.batches(batch_size, desc="unablated")]
    )
    labels = dataset.labels
    accuracy = {f"top{k}": float(topk_correct(logits, labels, k).mean()) for k in (1, 5, 10)}
    return Baseline(topk_correct(logits, labels, top_k), true_logprob(logits, labels), accuracy)


def reference_outcomes(net, dataset, channels, values, top_k, batch_size, progress=None, workdir=None):
    """Yield ``(channel, correct [N], logprob [N])`` one channel at a time."""
    for channel in channels:
        logits = []
        for _, images in dataset.batches(batch_size):
            logits.append(net.imputed_logits(images, [channel], values[channel]))
            if progress is not None:
                progress.update(len(images))
        logits = np.concatenate(logits)
        yield channel, topk_correct(logits, dataset.labels, top_k), true_logprob(logits, dataset.labels)
