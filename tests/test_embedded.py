"""The embedded default model: committed files, Lucid loading, reported accuracy, digits split, training."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.data.digits import load_digits, to_rgb01
from inception_tools.errors import UserError
from inception_tools.models.builder import build, layer_depths
from inception_tools.models.embedded import (
    EMBEDDED,
    LABELS_PATH,
    METRICS_PATH,
    MODEL_PATH,
    EmbeddedInception,
)

tf1 = tf.compat.v1

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_embedded.py"


@pytest.fixture(scope="module")
def metrics():
    return json.loads(METRICS_PATH.read_text())


@pytest.fixture(scope="module")
def test_digits():
    return load_digits("test")


def import_script():
    spec = importlib.util.spec_from_file_location("train_embedded", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def predict(graph_def, images, feed):
    """softmax2 of a frozen graph for ``feed(images)`` put straight into ``input``."""
    with tf.Graph().as_default(), tf1.Session() as sess:
        tf1.import_graph_def(graph_def, name="")
        return sess.run("softmax2:0", {"input:0": feed(to_rgb01(images))})


def test_committed_files(metrics):
    assert MODEL_PATH.stat().st_size < 5_000_000
    assert LABELS_PATH.read_text().split() == [str(d) for d in range(10)]
    assert metrics["layer_depths"] == layer_depths(EMBEDDED)
    # Mixed layers small enough to score every channel cheaply.
    assert all(48 <= layer_depths(EMBEDDED)[m] <= 96 for m in ("mixed3a", "mixed4a"))


def test_lucid_model_declares_the_layers():
    model = EmbeddedInception()
    assert [(layer.name, layer.depth) for layer in model.layers] == list(layer_depths(EMBEDDED).items())
    assert model.get_layer("softmax2").tags == {"dense"}
    assert model.labels == [str(d) for d in range(10)]
    assert tuple(model.image_shape) == (28, 28, 3)
    assert tuple(model.image_value_range) == (-1, 1)


def test_import_graph_adds_pre_relu_tensors_and_reaches_reported_accuracy(metrics, test_digits):
    images, labels = test_digits
    model = EmbeddedInception()
    with tf.Graph().as_default(), tf1.Session() as sess:
        t_input = tf1.placeholder(tf.float32, [None, 28, 28, 3])
        T = model.import_graph(t_input, scope="import")
        for layer in model.layers:
            assert T(layer.name).shape[-1] == layer.depth
        for mixed in ("mixed3a", "mixed4a"):
            assert T(f"{mixed}_pre_relu").shape[-1] == T(mixed).shape[-1]
        fetches = [T("mixed4a_pre_relu"), T("mixed4a"), T("softmax2")]
        pre_relu, mixed4a, probs = sess.run(fetches, {t_input: to_rgb01(images)})
    np.testing.assert_array_equal(mixed4a, np.maximum(pre_relu, 0))
    accuracy = np.mean(probs.argmax(axis=1) == labels)
    assert accuracy == pytest.approx(metrics["test_top1"], abs=0.005)
    assert accuracy > 0.95


def test_wrong_pixel_scaling_is_detectable(metrics, test_digits):
    images, labels = test_digits
    graph_def = EmbeddedInception().graph_def
    for wrong in (lambda x: x, lambda x: 255 * x):
        accuracy = np.mean(predict(graph_def, images, wrong).argmax(axis=1) == labels)
        assert accuracy < metrics["test_top1"] - 0.2


def node_map(graph_def):
    return {n.name: (n.op, list(n.input)) for n in graph_def.node}


def test_frozen_graph_has_exactly_the_builders_nodes():
    with tf.Graph().as_default() as graph:
        build(EMBEDDED, lambda name, shape: tf1.constant(np.zeros(shape, np.float32), name=name))
    assert node_map(EmbeddedInception().graph_def) == node_map(graph.as_graph_def())


def test_digits_split_is_fixed_and_stratified():
    train_images, train_labels = load_digits("train")
    test_images, test_labels = load_digits("test")
    assert train_images.shape == (4000, 28, 28) and test_images.shape == (1000, 28, 28)
    assert train_images.dtype == np.uint8 and test_labels.dtype == np.int64
    assert np.bincount(test_labels).tolist() == [100] * 10
    assert np.bincount(train_labels).tolist() == [400] * 10
    assert 0 < test_images.mean() < 255
    again, _ = load_digits("test")
    np.testing.assert_array_equal(test_images, again)
    with pytest.raises(UserError):
        load_digits("validation")


def test_to_rgb01_replicates_gray():
    gray = np.array([[[0, 255], [51, 102]]], np.uint8)
    rgb = to_rgb01(gray)
    assert rgb.shape == (1, 2, 2, 3) and rgb.dtype == np.float32
    np.testing.assert_allclose(rgb[0, 1, 1], [0.4, 0.4, 0.4])
    assert rgb.min() == 0 and rgb.max() == 1


def test_short_training_learns_and_freezes_to_the_builders_graph():
    script = import_script()
    graph_def = script.train(epochs=2, seed=0)
    assert node_map(graph_def) == node_map(EmbeddedInception().graph_def)
    assert script.accuracy_on_test_split(graph_def) > 0.5


def test_random_shifts_move_digits_within_bounds():
    from inception_tools.models.trainer import random_shifts

    x = -np.ones((64, 28, 28, 3), np.float32)
    x[:, 13:15, 13:15] = 1
    shifted = random_shifts(np.random.default_rng(0), x)
    assert shifted.shape == x.shape
    assert (shifted == 1).sum(axis=(1, 2, 3)).tolist() == [12] * 64
    centres = [np.argwhere(s[..., 0] == 1).mean(axis=0) - 13.5 for s in shifted]
    assert np.abs(centres).max() == 2
    assert len({tuple(c) for c in centres}) > 10
