"""What the training scripts of the embedded models share: a frozen graph's accuracy, and its model folder."""

import json
import os

import numpy as np
import tensorflow as tf

from inception_tools.atomic import atomic_open

tf1 = tf.compat.v1


def top1_accuracy(graph_def, inputs, labels, batch_size=500):
    """Top-1 accuracy of ``graph_def`` (``input`` -> ``softmax2``) on ``inputs`` with true ``labels``."""
    with tf.Graph().as_default():
        tf1.import_graph_def(graph_def, name="")
        with tf1.Session() as sess:
            probs = [sess.run("softmax2:0", {"input:0": inputs[i:i + batch_size]})
                     for i in range(0, len(inputs), batch_size)]
    return float(np.mean(np.concatenate(probs).argmax(axis=1) == labels))


def write_model(out_dir, pb_name, graph_def, labels, metrics):
    """Write ``<out_dir>/<pb_name>`` (serialized deterministically), ``labels.txt`` and ``metrics.json`` atomically."""
    with atomic_open(os.path.join(out_dir, pb_name), "wb") as f:
        f.write(graph_def.SerializeToString(deterministic=True))
    with atomic_open(os.path.join(out_dir, "labels.txt")) as f:
        f.write("\n".join(labels) + "\n")
    with atomic_open(os.path.join(out_dir, "metrics.json")) as f:
        json.dump(metrics, f, indent=2)
        f.write("\n")
