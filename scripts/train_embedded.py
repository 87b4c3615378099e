"""Train the embedded default model and write it to ``inception_tools/models/data/embedded/``.

The trainer is :func:`inception_tools.models.trainer.train` (architecture, data,
augmentation, optimizer and freezing are described there); this script turns
op determinism on, so a rerun gives the same weights. Top-1 accuracy on the
1,000 "test" digits is measured on the frozen graph itself and written to
``metrics.json``.

Usage: ``python scripts/train_embedded.py [--epochs N] [--seed S] [--out DIR]``
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from tqdm import tqdm  # noqa: E402

from inception_tools.data.digits import load_digits  # noqa: E402
from inception_tools.models import frozen  # noqa: E402
from inception_tools.models.builder import layer_depths  # noqa: E402
from inception_tools.models.embedded import EMBEDDED, LABELS, MODEL_DIR  # noqa: E402
from inception_tools.models.trainer import BATCH_SIZE, LEARNING_RATE, MAX_SHIFT, to_value_range  # noqa: E402
from inception_tools.models.trainer import train as train_model  # noqa: E402

tf1 = tf.compat.v1
tf1.logging.set_verbosity(tf1.logging.ERROR)


def train(epochs, seed):
    """Train from ``seed`` with a progress bar; return the frozen GraphDef (output ``softmax2``)."""
    with tqdm(total=epochs, desc="training") as bar:
        return train_model(epochs, seed, progress=lambda epoch, loss: bar.set_postfix(loss=f"{loss:.4f}") or bar.update(1))


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
