"""Per-image scores (top-k correctness, log-probability of the true class) and the exact McNemar test."""

import numpy as np
from scipy.stats import binomtest


def topk_correct(logits, labels, k):
    """True class among the ``k`` largest logits.

    Rank = number of classes with a strictly larger logit; ties count in the
    true class's favour, so the result does not depend on sort order.
    """
    true = logits[np.arange(len(labels)), labels]
    rank = (logits > true[:, None]).sum(axis=1)
    return rank < k


def true_logprob(logits, labels):
    """log softmax(logits)[true class], in float64."""
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    return shifted[np.arange(len(labels)), labels] - log_norm


def mcnemar_p(newly_wrong, newly_right):
    """Exact two-sided McNemar p-value from the two discordant counts."""
    n = newly_wrong + newly_right
    if n == 0:
        return 1.0
    return float(binomtest(newly_wrong, n, 0.5).pvalue)
