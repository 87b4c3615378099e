"""The data randomization test's model: the embedded architecture trained on permuted labels.

Adebayo et al. train the same architecture on the same images with the labels
randomly permuted; a model that can only memorize has learned nothing about
digits, so a saliency method whose maps stay alike on it explains the
architecture or the input, not what the model learned. Here the permuted
model comes from the trainer that made the embedded model
(:func:`inception_tools.models.trainer.train`, same seed, epochs as given):
only the labels differ, permuted by a generator seeded with ``seed``.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import tensorflow as tf

from inception_tools import progress
from inception_tools.data.digits import load_digits
from inception_tools.errors import UserError
from inception_tools.models import frozen

tf1 = tf.compat.v1

MODEL = "embedded"


@dataclasses.dataclass
class Retrained:
    """The permuted-label model and how it was made.

    Attributes:
        graph_def: the frozen GraphDef.
        epochs, seed: the training settings.
        seconds: training time.
        train_accuracy: top-1 on the training digits against the permuted labels (memorization).
        test_accuracy: top-1 on the test digits against their real labels (about chance when nothing is learned).
    """

    graph_def: object
    epochs: int
    seed: int
    seconds: float
    train_accuracy: float
    test_accuracy: float


def permuted_labels(seed: int) -> np.ndarray:
    """The training digits' labels, permuted by ``np.random.default_rng([seed, 1])``."""
    _, labels = load_digits("train")
    return np.random.default_rng([seed, 1]).permutation(labels)


def check_model(model) -> None:
    """Refuse a model without a seeded trainer here (only the embedded model has one)."""
    if model.name != MODEL:
        raise UserError(f"the data randomization test retrains the model, which only works for the embedded model, "
                        f"not {model.name}")


def retrain(epochs: int, seed: int) -> Retrained:
    """Train the embedded architecture on permuted labels.

    Args:
        epochs: training epochs (the embedded model had 40).
        seed: the trainer's seed (the embedded model's is 0) and the permutation's.

    Returns:
        :class:`Retrained`.
    """
    from inception_tools.models.trainer import to_value_range, train

    labels = permuted_labels(seed)
    started = time.perf_counter()
    with progress.bar(total=epochs, desc="training on permuted labels", unit="epoch") as bar:
        graph_def = train(epochs, seed, labels=labels, progress=lambda epoch, loss: bar.update(1))
    seconds = time.perf_counter() - started
    train_images, _ = load_digits("train")
    test_images, test_labels = load_digits("test")
    return Retrained(graph_def, epochs, seed, seconds,
                     frozen.top1_accuracy(graph_def, to_value_range(train_images), labels),
                     frozen.top1_accuracy(graph_def, to_value_range(test_images), test_labels))
