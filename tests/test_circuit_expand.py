"""Expanded weights equal TensorFlow's Jacobian of the linearized graph (embedded, stand-in, InceptionV1)."""

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.circuit import expand, jacobian
from inception_tools.errors import UserError
from inception_tools.models import load_model

tf1 = tf.compat.v1


def _error(model, source, target, seed=0):
    kernel = expand.expanded_weights(model.graph_def, source, target, model.input_name, model.image_shape)
    weights = np.random.default_rng(seed).standard_normal(kernel.weights.shape[3])  # every output channel at once
    return kernel, jacobian.jacobian_error(model.graph_def, source, target, model.input_name, model.image_shape,
                                           kernel, weights)


@pytest.mark.parametrize("source, target, size, stride", [
    ("conv2d0", "mixed3a", 11, 2),   # through a stride-2 max pool
    ("mixed3a", "mixed4a", 11, 2),
    ("conv2d0", "mixed4a", 31, 4),   # two blocks composed; checked on a larger input
])
def test_expanded_weights_equal_the_jacobian_on_the_embedded_model(embedded_model, source, target, size, stride):
    kernel, error = _error(embedded_model, source, target)
    assert kernel.weights.shape[:2] == (size, size) and kernel.stride == stride
    assert kernel.weights.shape[2:] == (embedded_model.depth(source), embedded_model.depth(target))
    assert error < 1e-5


@pytest.fixture(scope="module")
def standin(standin_dir):
    return load_model("InceptionV1", str(standin_dir / "InceptionV1.pb"))


@pytest.mark.parametrize("source, target", [
    ("mixed3a", "mixed3b"),   # the four branches, stride 1
    ("conv2d2", "mixed3a"),   # LRN and a stride-2 max pool on the way
    ("mixed3b", "mixed4a"),
])
def test_expanded_weights_equal_the_jacobian_on_the_standin(standin, source, target):
    _, error = _error(standin, source, target)
    assert error < 1e-5


def test_the_check_fails_for_wrong_weights(embedded_model):
    kernel = expand.expanded_weights(embedded_model.graph_def, "conv2d0", "mixed3a", "input", (28, 28, 3))
    kernel.weights[5, 5, 3, 7] += 0.05 * np.abs(kernel.weights).max()
    one_hot = np.eye(96)[7]
    assert jacobian.jacobian_error(embedded_model.graph_def, "conv2d0", "mixed3a", "input", (28, 28, 3), kernel,
                                   one_hot) > 0.01
    kernel.anchor += 1  # a misplaced kernel fails too
    kernel.weights[5, 5, 3, 7] -= 0.05 * np.abs(kernel.weights).max()
    assert jacobian.jacobian_error(embedded_model.graph_def, "conv2d0", "mixed3a", "input", (28, 28, 3), kernel,
                                   one_hot) > 0.1


def test_two_stacked_convolutions_give_the_full_convolution_of_their_kernels():
    rng = np.random.default_rng(1)
    w1, w2 = rng.standard_normal((3, 3, 2, 4)), rng.standard_normal((3, 3, 4, 3))
    with tf.Graph().as_default() as graph:
        x = tf1.placeholder(tf.float32, [None, 16, 16, 2], name="input")
        a = tf1.nn.relu(tf1.nn.conv2d(x, w1.astype(np.float32), [1, 1, 1, 1], "SAME"), name="a")
        tf1.nn.conv2d(a, w2.astype(np.float32), [1, 1, 1, 1], "SAME", name="b")
    kernel = expand.expanded_weights(graph.as_graph_def(), "input", "b", "input", (16, 16, 2))
    expected = np.zeros((5, 5, 2, 3))
    for q1 in range(3):
        for q2 in range(3):
            expected[q1:q1 + 3, q2:q2 + 3] += np.einsum("hwim,mo->hwio", w1, w2[q1, q2])
    assert kernel.stride == 1 and kernel.anchor == 2
    np.testing.assert_allclose(kernel.weights, expected, rtol=1e-5, atol=1e-6)


def test_source_channels_select_rows(embedded_model):
    whole = expand.expanded_weights(embedded_model.graph_def, "mixed3a", "mixed4a", "input", (28, 28, 3))
    some = expand.expanded_weights(embedded_model.graph_def, "mixed3a", "mixed4a", "input", (28, 28, 3),
                                   channels=[4, 9])
    np.testing.assert_allclose(some.weights, whole.weights[:, :, [4, 9]])


def test_the_linearized_graph_has_no_nonlinearity(standin):
    ops = {n.op for n in jacobian.linearized(standin.graph_def).node}
    assert not ops & {"Relu", "MaxPool", "LRN"} and "AvgPool" in ops


@pytest.mark.parametrize("source, target, message", [
    ("mixed4a", "mixed3a", "layers mixed4a and mixed3a are not connected"),
    ("mixed3a", "mixed3a", "not connected"),
    ("mixed4a", "softmax2", "passes avgpool0/reshape (Reshape), which has no spatial kernel"),
])
def test_pairs_without_a_kernel_are_refused(embedded_model, source, target, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        expand.expanded_weights(embedded_model.graph_def, source, target, "input", (28, 28, 3))


def test_inceptionv1_mixed3b_379_from_mixed3a(inceptionv1_path):
    model = load_model("InceptionV1", inceptionv1_path)
    kernel = expand.expanded_weights(model.graph_def, "mixed3a", "mixed3b", "input", (224, 224, 3))
    one_hot = np.eye(480)[379]
    assert kernel.weights.shape == (5, 5, 256, 480)
    assert jacobian.jacobian_error(model.graph_def, "mixed3a", "mixed3b", "input", (224, 224, 3), kernel,
                                   one_hot) < 1e-5
