"""The fast engine's three replacements compute what Lucid's and TensorFlow's originals compute."""

import numpy as np
import pytest
import tensorflow as tf

from inception_tools import fast_render
from inception_tools.lucid_compat import Session, import_lucid

tf1 = tf.compat.v1


def _run(build, feeds):
    """``build(placeholders)`` -> tensors, evaluated in a fresh graph on ``feeds`` (arrays)."""
    with tf.Graph().as_default(), Session() as sess:
        holders = [tf1.placeholder(tf.float32, a.shape) for a in feeds]
        tensors = build(*holders)
        tf1.global_variables_initializer().run()
        return sess.run(tensors, dict(zip(holders, feeds)))


@pytest.fixture(scope="module")
def activations():
    return (np.maximum(np.random.default_rng(0).normal(size=(4, 5, 5, 48)), 0) * 30).astype(np.float32)


def test_diversity_has_lucids_value_and_gradient(activations):
    import_lucid()
    from lucid.optvis import objectives

    def value_and_gradient(diversity):
        def build(x):
            loss = diversity("layer")(lambda name: x)
            return [loss, tf.gradients(loss, x)[0]]
        return _run(build, [activations])

    (lucid, lucid_grad), (fast, fast_grad) = value_and_gradient(objectives.diversity), value_and_gradient(
        fast_render.diversity)
    assert lucid > 0.5  # rectified activations: the Gram matrices are far from orthogonal
    np.testing.assert_allclose(fast, lucid, rtol=1e-6)
    np.testing.assert_allclose(fast_grad, lucid_grad, rtol=1e-5, atol=1e-6 * np.abs(lucid_grad).max())


@pytest.mark.parametrize("step", [0, 16, 17, 400])
def test_redirected_relu_gradient_is_lucids_bit_for_bit(step):
    import_lucid()
    from lucid.misc.gradient_override import gradient_override_map
    from lucid.misc.redirected_relu_grad import redirected_relu_grad

    rng = np.random.default_rng(step)
    x = rng.normal(size=(3, 4, 4, 8)).astype(np.float32)
    x[0] = -np.abs(x[0])  # an image with no unit through: its redirected gradient is not the plain one
    upstream = rng.normal(size=x.shape).astype(np.float32)

    def gradient(grad_f):
        with tf.Graph().as_default(), Session() as sess:
            global_step = tf1.train.get_or_create_global_step()
            with gradient_override_map({"Relu": grad_f}):
                y = tf.nn.relu(tf.constant(x))
            grad = tf.gradients(y, y.op.inputs[0], grad_ys=tf.constant(upstream))[0]
            tf1.global_variables_initializer().run()
            global_step.load(step, sess)
            return sess.run(grad)

    lucid, fast = gradient(redirected_relu_grad), gradient(fast_render.redirected_relu_grad)
    assert lucid.tobytes() == fast.tobytes()
    assert (step > 16) == np.array_equal(lucid, np.where(x < 0, 0, upstream))


@pytest.mark.parametrize("depth", [8, 64])
def test_lrn_gradient_agrees_with_tensorflows_kernel(depth):
    import_lucid()
    from lucid.misc.gradient_override import gradient_override_map

    rng = np.random.default_rng(depth)
    x = (np.maximum(rng.normal(size=(2, 6, 6, depth)), 0) * 40).astype(np.float32)
    upstream = rng.normal(size=x.shape).astype(np.float32)
    args = dict(depth_radius=5, bias=2.0, alpha=1e-4, beta=0.5)

    def build(x, g):
        kernel = tf.gradients(tf.nn.lrn(x, **args), x, grad_ys=g)[0]
        with gradient_override_map({"LRN": fast_render.lrn_grad}):
            y = tf.nn.lrn(x, **args)
        return [kernel, tf.gradients(y, x, grad_ys=g)[0]]

    kernel, fast = _run(build, [x, upstream])
    assert np.abs(kernel).max() > 1e-3
    np.testing.assert_allclose(fast, kernel, rtol=1e-5, atol=1e-6 * np.abs(kernel).max())


@pytest.mark.parametrize("size, padding, depth_in, stride", [
    (30, "SAME", 3, 2), (31, "SAME", 3, 2), (29, "VALID", 3, 2), (33, "SAME", 1, 3), (30, "SAME", 16, 2),
    (30, "SAME", 3, 1)])
def test_conv2d_gradient_agrees_with_tensorflows(size, padding, depth_in, stride):
    import_lucid()
    from lucid.misc.gradient_override import gradient_override_map

    rng = np.random.default_rng(size)
    x = rng.normal(size=(2, size, size, depth_in)).astype(np.float32)
    kernel = rng.normal(size=(7, 7, depth_in, 8)).astype(np.float32)

    def build(x, kernel):
        y = tf.nn.conv2d(x, kernel, stride, padding)
        upstream = tf.sin(tf.range(tf.size(y), dtype=tf.float32) * 0.37)  # any fixed gradient
        upstream = tf.reshape(upstream, tf.shape(y))
        with gradient_override_map({"Conv2D": fast_render.conv2d_grad}):
            y_fast = tf.nn.conv2d(x, kernel, stride, padding)
        return tf.gradients(y, [x, kernel], upstream) + tf.gradients(y_fast, [x, kernel], upstream)

    tf_x, tf_kernel, fast_x, fast_kernel = _run(build, [x, kernel])
    assert fast_kernel.tobytes() == tf_kernel.tobytes()
    if depth_in > 4 or stride == 1:  # TensorFlow's own op: the same bytes
        assert fast_x.tobytes() == tf_x.tobytes()
    else:
        np.testing.assert_allclose(fast_x, tf_x, rtol=1e-4, atol=1e-5 * np.abs(tf_x).max())
