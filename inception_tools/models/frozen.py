"""What the training scripts of the embedded models share: the training loop, a frozen graph's accuracy,
and its model folder."""

import json
import os

import numpy as np
import tensorflow as tf

from inception_tools.atomic import atomic_open

tf1 = tf.compat.v1


def fit(labels, epochs, batch_size, learning_rate, rng, batch_inputs, finish, progress=None):
    """Train the model built in the current default graph; return ``finish(session)``.

    Softmax cross entropy on ``softmax2_pre_activation``; Adam with a learning rate cosine-decayed over
    every step; each epoch a new ``rng`` permutation of the training set, fed in batches of
    ``batch_inputs(indices)`` (the ``input`` batch) and ``labels[indices]``.

    Args:
        progress: called after every epoch with ``(epoch, mean loss)``.
    """
    graph = tf1.get_default_graph()
    t_labels = tf1.placeholder(tf.int64, [None], name="labels")
    logits = graph.get_tensor_by_name("softmax2_pre_activation:0")
    loss = tf1.reduce_mean(tf1.nn.sparse_softmax_cross_entropy_with_logits(labels=t_labels, logits=logits))
    global_step = tf1.train.get_or_create_global_step()
    steps_per_epoch = -(-len(labels) // batch_size)
    rate = tf1.train.cosine_decay(learning_rate, global_step, epochs * steps_per_epoch)
    step = tf1.train.AdamOptimizer(rate).minimize(loss, global_step=global_step)
    with tf1.Session() as sess:
        sess.run(tf1.global_variables_initializer())
        for epoch in range(epochs):
            order = rng.permutation(len(labels))
            losses = []
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                losses.append(sess.run([step, loss], {"input:0": batch_inputs(idx), t_labels: labels[idx]})[1])
            if progress is not None:
                progress(epoch, float(np.mean(losses)))
        return finish(sess)


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
