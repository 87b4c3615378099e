"""Train the embedded default model and write it to ``inception_tools/models/data/embedded/``.

The architecture is :data:`inception_tools.models.embedded.EMBEDDED`, built by
the same builder as the frozen graphs but with ``tf.compat.v1`` variables
(He-normal initial values from a seeded numpy generator). Training: the 4,000
"train" digits, grayscale replicated to RGB and mapped to the value range
(-1, 1) exactly as Lucid's ``create_input`` maps [0, 1] pixels, each batch
shifted by up to 2 pixels at random; softmax cross entropy on
``softmax2_pre_activation``; Adam with a cosine-decayed learning rate;
shuffling and shifts from the same seed; op determinism on, so a rerun gives
the same weights.

Freezing: variables become constants (``convert_variables_to_constants``) and
``remove_training_nodes`` drops the Identity reads, so the frozen graph's nodes
are exactly the builder's (``conv2d0_w`` is a Const feeding
``conv2d0_pre_relu/conv``, ...). Top-1 accuracy on the 1,000 "test" digits is
measured on the frozen graph itself and written to ``metrics.json``.

Usage: ``python scripts/train_embedded.py [--epochs N] [--seed S] [--out DIR]``
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
from inception_tools.models.builder import build, he_normal, layer_depths  # noqa: E402
from inception_tools.models.embedded import EMBEDDED, LABELS, MODEL_DIR, VALUE_RANGE  # noqa: E402

tf1 = tf.compat.v1
tf1.logging.set_verbosity(tf1.logging.ERROR)

BATCH_SIZE = 64
LEARNING_RATE = 2e-3
MAX_SHIFT = 2


def to_value_range(images):
    """uint8 digits -> float32 RGB model input in VALUE_RANGE (what create_input feeds)."""
    lo, hi = VALUE_RANGE
    return lo + to_rgb01(images) * (hi - lo)


def random_shifts(rng, x, max_shift=MAX_SHIFT):
    """Translate each image of ``x`` [N, H, W, C] by up to ``max_shift`` pixels; the background fills in."""
    n, h, w, _ = x.shape
    margin = (max_shift, max_shift)
    padded = np.pad(x, [(0, 0), margin, margin, (0, 0)], constant_values=VALUE_RANGE[0])
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    return np.stack([padded[i, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])


def train(epochs, seed):
    """Train from ``seed``; return the frozen GraphDef (output ``softmax2``)."""
    rng = np.random.default_rng(seed)
    images, labels = load_digits("train")
    x_train = to_value_range(images)
    with tf.Graph().as_default() as graph:

        def variable(name, shape):
            return tf1.Variable(he_normal(rng, name, shape), name=name)

        build(EMBEDDED, variable)

        def freeze(sess):
            return tf1.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["softmax2"])

        with tqdm(total=epochs, desc="training") as bar:
            graph_def = frozen.fit(labels, epochs, BATCH_SIZE, LEARNING_RATE, rng,
                                   lambda idx: random_shifts(rng, x_train[idx]), freeze,
                                   lambda epoch, loss: bar.set_postfix(loss=f"{loss:.4f}") or bar.update(1))
    return tf1.graph_util.remove_training_nodes(graph_def)


def accuracy_on_test_split(graph_def):
    """Top-1 accuracy of a frozen graph on the "test" digits."""
    images, labels = load_digits("test")
    return frozen.top1_accuracy(graph_def, to_value_range(images), labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(MODEL_DIR), help="output folder (default: inception_tools/models/data/embedded)")
    args = parser.parse_args()

    tf.config.experimental.enable_op_determinism()
    started = time.perf_counter()
    graph_def = train(args.epochs, args.seed)
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
        "max_shift": MAX_SHIFT,
        "seed": args.seed,
        "layer_depths": layer_depths(EMBEDDED),
    }
    frozen.write_model(args.out, "embedded.pb", graph_def, LABELS, metrics)
    print(f"test top-1 {accuracy:.4f}; trained in {train_seconds:.0f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
