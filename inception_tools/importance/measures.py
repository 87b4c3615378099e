"""What one ablation does to one image, and the channel scores built from it.

For every image and ablated channel a scan keeps four outcomes (the
:mod:`.store`): whether the true class is still in the top k, the change of
the true class's log-probability, and two label-free changes of the whole
output distribution over the model's real classes (InceptionV1: its 1000
ImageNet classes, without the dummy output 0 and the unused 1001-1007):

- ``kl``: KL(p || p_ablated), p = the unablated softmax;
- ``l1``: sum over classes of |p - p_ablated|.

A channel's score under a measure is the mean over images of a per-image
contribution, signed so that larger means "the model needs this channel
more". :data:`inception_tools.tables.MEASURES` names them; ``importance`` is the
study's (its CSV column is the count, N times the mean).
"""

import numpy as np

from inception_tools.importance.stats import topk_correct, true_logprob
from inception_tools.tables import measure


def real_log_softmax(logits, real):
    """log softmax over the real classes only (``real``: bool mask of the outputs), float64."""
    x = logits[..., real].astype(np.float64)
    x -= x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def image_outcomes(logits, labels, top_k, base_logprob, base_real_logp, real, label_free=True):
    """Per-image outcomes of ablated ``logits`` [G, B, classes] for ``G`` channels on ``B`` images.

    Args:
        labels: int [B] true classes.
        base_logprob: float [B] unablated log p(true) (over every output, as ``true_logprob``).
        base_real_logp: float [B, K] unablated log-probabilities over the K real classes.
        real: bool [classes] mask of the real classes.
        label_free: also compute ``kl`` and ``l1`` (else they are NaN).

    Returns:
        dict of [G, B] arrays: ``correct`` (bool), ``delta_logprob``, ``kl``, ``l1``.
    """
    g, b = logits.shape[:2]
    flat = logits.reshape(g * b, -1)
    tiled = np.tile(labels, g)
    out = {
        "correct": topk_correct(flat, tiled, top_k).reshape(g, b),
        "delta_logprob": true_logprob(flat, tiled).reshape(g, b) - base_logprob[None],
    }
    if label_free:
        logq = real_log_softmax(logits, real)
        p = np.exp(base_real_logp)[None]
        # KL >= 0; clipping removes float64 rounding of KL ~ 0 only.
        out["kl"] = np.maximum(np.sum(p * (base_real_logp[None] - logq), axis=-1), 0.0)
        out["l1"] = np.abs(p - np.exp(logq)).sum(axis=-1)
    else:
        out["kl"] = out["l1"] = np.full((g, b), np.nan)
    return out


def contributions(store, name, rows=slice(None), columns=slice(None)):
    """Per-image contributions [channels, images] (float64) of measure ``name``; larger = more important."""
    name = measure(name).name
    if name == "importance":
        base = store.base_correct[columns].astype(np.float64)
        return base[None] - store.correct[rows, columns]
    field = {"delta-logprob": "delta_logprob", "kl": "kl", "l1": "l1"}[name]
    values = store.field(field)[rows, columns].astype(np.float64)
    return -values if name == "delta-logprob" else values
