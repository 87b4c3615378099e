"""Train the embedded MLP (784-128-64-32-10) and write it to ``inception_tools/models/data/embedded-mlp/``.

The architecture is :data:`inception_tools.models.mlp.MLP`. Training adds a
dropout layer (rate :data:`DROPOUT`) after each hidden ReLU and uses
``tf.compat.v1`` variables with He-normal initial values from a seeded numpy
generator; data: the 4,000 "train" digits as [0, 1] RGB images (what
Lucid's ``create_input`` feeds for the value range (0, 1)); softmax cross
entropy on ``softmax2_pre_activation``; Adam with a cosine-decayed learning
rate; shuffling, initial values and dropout masks from the same seed; op
determinism on, so a rerun gives the same weights.

Freezing: the trained values become the constants of a second graph built
from :data:`MLP` alone (no dropout), so the frozen graph's nodes are exactly
the builder's (``dense1_w`` is a Const feeding ``dense1_pre_relu/matmul``).
Top-1 accuracy on the 1,000 "test" digits is measured on the frozen graph and
written to ``metrics.json``.

Usage: ``python scripts/train_mlp.py [--epochs N] [--seed S] [--out DIR]``
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tqdm import tqdm  # noqa: E402

from inception_tools.data.digits import load_digits, to_rgb01  # noqa: E402
from inception_tools.models import frozen  # noqa: E402
from inception_tools.models.builder import Dense, Dropout, build, he_normal, layer_depths  # noqa: E402
from inception_tools.models.mlp import IMAGE_SHAPE, LABELS, MLP, MODEL_DIR  # noqa: E402

tf1 = tf.compat.v1
tf1.logging.set_verbosity(tf1.logging.ERROR)

BATCH_SIZE = 64
LEARNING_RATE = 1e-3
DROPOUT = 0.2


def training_spec(seed):
    """:data:`MLP` with a seeded dropout layer after every dense layer."""
    spec = []
    for layer in MLP:
        spec.append(layer)
        if isinstance(layer, Dense):
            spec.append(Dropout(f"{layer.name}_dropout", DROPOUT, seed=seed + len(spec)))
    return tuple(spec)


def train(epochs, seed):
    """Train from ``seed``; return ``{parameter name: float32 array}``."""
    rng = np.random.default_rng(seed)
    images, labels = load_digits("train")
    x_train = to_rgb01(images)
    height, width, _ = IMAGE_SHAPE
    with tf.Graph().as_default():
        tf1.set_random_seed(seed)
        variables = {}

        def variable(name, shape):
            variables[name] = tf1.Variable(he_normal(rng, name, shape), name=name)
            return variables[name]

        build(training_spec(seed), variable, height, width)
        with tqdm(total=epochs, desc="training") as bar:
            return frozen.fit(labels, epochs, BATCH_SIZE, LEARNING_RATE, rng, lambda idx: x_train[idx],
                              lambda sess: sess.run(variables),
                              lambda epoch, loss: bar.set_postfix(loss=f"{loss:.4f}") or bar.update(1))


def freeze(weights):
    """The inference GraphDef of :data:`MLP` with ``weights`` as constants."""
    height, width, _ = IMAGE_SHAPE
    with tf.Graph().as_default() as graph:
        build(MLP, lambda name, shape: tf1.constant(weights[name], name=name), height, width)
        return graph.as_graph_def()


def accuracy_on_test_split(graph_def):
    """Top-1 accuracy of a frozen graph on the "test" digits fed as [0, 1] RGB."""
    images, labels = load_digits("test")
    return frozen.top1_accuracy(graph_def, to_rgb01(images), labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(MODEL_DIR), help="output folder (default: inception_tools/models/data/embedded-mlp)")
    args = parser.parse_args()

    tf.config.experimental.enable_op_determinism()
    started = time.perf_counter()
    graph_def = freeze(train(args.epochs, args.seed))
    train_seconds = time.perf_counter() - started
    accuracy = accuracy_on_test_split(graph_def)
    metrics = {
        "test_top1": accuracy,
        "n_train": 4000,
        "n_test": 1000,
        "train_seconds": round(train_seconds, 1),
        "epochs": args.epochs,
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        "dropout": DROPOUT,
        "seed": args.seed,
        "layer_depths": layer_depths(MLP),
    }
    frozen.write_model(args.out, "embedded-mlp.pb", graph_def, LABELS, metrics)
    print(f"test top-1 {accuracy:.4f}; trained in {train_seconds:.0f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
