"""The embedded MLP: committed files, loading by name, accuracy, training, importance and examples on dense1."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.data import load_dataset
from inception_tools.data.digits import load_digits
from inception_tools.examples import ExamplesConfig, dataset_examples
from inception_tools.importance import ImportanceConfig, score_layer
from inception_tools.importance.outcomes import channel_means
from inception_tools.models import load_model
from inception_tools.models.builder import build, layer_depths
from inception_tools.models.mlp import IMAGE_SHAPE, LABELS_PATH, METRICS_PATH, MLP, MODEL_PATH, EmbeddedMLP
from inception_tools.surgery import Network

tf1 = tf.compat.v1

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_mlp.py"


@pytest.fixture(scope="module")
def mlp():
    return load_model("embedded-mlp", layers=["dense1", "dense2", "dense3"])


@pytest.fixture(scope="module")
def metrics():
    return json.loads(METRICS_PATH.read_text())


def import_script():
    spec = importlib.util.spec_from_file_location("train_mlp", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nearest_mean_accuracy():
    """Floor: nearest class mean on raw pixels, fitted on the train digits, scored on the test digits."""
    train_x, train_y = load_digits("train")
    test_x, test_y = load_digits("test")
    train_x = train_x.reshape(len(train_x), -1) / 255.0
    test_x = test_x.reshape(len(test_x), -1) / 255.0
    centres = np.stack([train_x[train_y == d].mean(axis=0) for d in range(10)])
    distances = ((test_x[:, None, :] - centres[None]) ** 2).sum(axis=-1)
    return float(np.mean(distances.argmin(axis=1) == test_y))


def node_map(graph_def):
    return {n.name: (n.op, list(n.input)) for n in graph_def.node}


def test_committed_files_and_declared_layers(mlp, metrics):
    assert MODEL_PATH.stat().st_size < 1_000_000
    assert LABELS_PATH.read_text().split() == [str(d) for d in range(10)]
    assert metrics["layer_depths"] == layer_depths(MLP) == {"dense1": 128, "dense2": 64, "dense3": 32, "softmax2": 10}
    assert mlp.layer_depths == layer_depths(MLP)
    assert mlp.value_range == (0, 1) and mlp.image_shape == IMAGE_SHAPE
    assert mlp.default_top_k == 1 and mlp.label_ids == [str(d) for d in range(10)]
    assert all(layer.tags == {"dense"} for layer in EmbeddedMLP().layers)


def test_frozen_graph_has_exactly_the_builders_nodes_and_no_dropout(mlp):
    with tf.Graph().as_default() as graph:
        build(MLP, lambda name, shape: tf1.constant(np.zeros(shape, np.float32), name=name), 28, 28)
    assert node_map(mlp.graph_def) == node_map(graph.as_graph_def())
    assert not any("dropout" in n.name for n in mlp.graph_def.node)


def test_accuracy_beats_a_nearest_mean_floor_and_matches_metrics(mlp, metrics):
    floor = nearest_mean_accuracy()
    dataset = load_dataset("embedded", mlp)
    net = Network(mlp, "dense1")
    try:
        probs = net.run(net.T("softmax2"), dataset.images())
        acts = net.run(net.T("dense1"), dataset.images(0, 10))
        pre = net.run(net.T("dense1_pre_relu"), dataset.images(0, 10))
    finally:
        net.close()
    accuracy = float(np.mean(probs.argmax(axis=1) == dataset.labels))
    assert accuracy == pytest.approx(metrics["test_top1"], abs=1e-9)
    assert accuracy > floor + 0.1, (accuracy, floor)
    np.testing.assert_array_equal(acts, np.maximum(pre, 0))
    # The graph only reads the first colour channel: other channels change nothing.
    images = dataset.images(0, 10)
    images[..., 1:] = 0.5
    with tf.Graph().as_default(), tf1.Session() as sess:
        tf1.import_graph_def(mlp.graph_def, name="")
        np.testing.assert_allclose(sess.run("softmax2:0", {"input:0": images}), probs[:10], atol=1e-6)


def test_importance_on_dense1_fast_equals_reference(mlp, tmp_path):
    dataset = load_dataset("embedded", mlp, limit=200)
    net = Network(mlp, "dense1")
    channels = [0, 5, 17, 100]
    try:
        assert net.verify(dataset.images(0, 50)) == 0
        means = channel_means(net, dataset, 64)
        acts = np.concatenate([net.layer_activations(dataset.images(s, s + 64)) for s in range(0, 200, 64)])
        np.testing.assert_allclose(means, acts.astype(np.float64).mean(axis=0), rtol=1e-6)
        results = {engine: score_layer(net, dataset, ImportanceConfig(tuple(channels), 1, batch_size=64, engine=engine, resamples=10),
                                       str(tmp_path / f"{engine}.csv"))
                   for engine in ("reference", "fast")}
    finally:
        net.close()
    ref, fast = results["reference"].store, results["fast"].store
    np.testing.assert_array_equal(ref.correct, fast.correct)
    np.testing.assert_allclose(ref.field("delta_logprob"), fast.field("delta_logprob"), atol=1e-5)
    assert ref.channels == channels and (tmp_path / "fast.csv").read_text().count("embedded-mlp,dense1,") == 4
    # Mean ablation of a unit moves some log-probabilities.
    assert np.abs(ref.field("delta_logprob")).max() > 0


def test_examples_on_dense1_rank_whole_images_by_the_unit(mlp, tmp_path):
    dataset = load_dataset("embedded", mlp, limit=120)
    table = dataset_examples(mlp, "dense1", dataset, str(tmp_path), ExamplesConfig(k=4, batch_size=50),
                             channels=[3]).table()
    net = Network(mlp, "dense1")
    try:
        pre = net.run(net.T("dense1_pre_relu"), dataset.images())
    finally:
        net.close()
    for c in (0, 3, 127):
        order = np.argsort(-pre[:, c], kind="stable")
        assert table[str(c)]["top_rows"] == order[:4].tolist()
        np.testing.assert_allclose(table[str(c)]["top_values"], pre[order[:4], c], rtol=1e-6)
        assert table[str(c)]["bottom_rows"] == np.argsort(pre[:, c], kind="stable")[:4].tolist()
    strip = tmp_path / "examples" / "dense1" / "channel_0003_top.png"
    from PIL import Image

    assert Image.open(strip).size == (4 * 28, 28)  # whole digits side by side
    dataset_examples(mlp, "dense1", dataset, str(tmp_path), ExamplesConfig(k=4, mode="max", batch_size=50),
                     channels=[3])
    assert Image.open(tmp_path / "examples" / "dense1-max" / "channel_0003_top.png").size == (4 * 28, 28)


def test_short_training_is_deterministic_and_freezes_to_the_builders_graph(mlp):
    from tensorflow.python.framework import config

    script = import_script()
    tf.config.experimental.enable_op_determinism()  # as the script's main() does
    try:
        first = script.freeze(script.train(epochs=2, seed=0))
        second = script.freeze(script.train(epochs=2, seed=0))
    finally:
        config.disable_op_determinism()  # leave other tests as they were
    assert first.SerializeToString(deterministic=True) == second.SerializeToString(deterministic=True)
    assert node_map(first) == node_map(mlp.graph_def)
    assert script.accuracy_on_test_split(first) > 0.8
