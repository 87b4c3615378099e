"""The installed lucid package runs on TensorFlow 2 through inception_tools.lucid_compat."""

import sys

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.lucid_compat import Session, import_lucid, rotate

tf1 = tf.compat.v1


@pytest.fixture(scope="module")
def lucid():
    import_lucid()
    import lucid.optvis.param as param
    import lucid.optvis.render as render
    import lucid.optvis.transform as transform

    return param, render, transform


def evaluate(tensor_fn):
    with tf.Graph().as_default(), tf1.Session() as sess:
        out = tensor_fn()
        sess.run(tf1.global_variables_initializer())
        return sess.run(out)


def test_lucid_sees_tf1_and_everyone_else_sees_tf2(lucid):
    param, render, transform = lucid
    assert sys.modules["tensorflow"] is tf
    assert "tensorflow.contrib" not in sys.modules
    assert not hasattr(tf.compat.v1, "contrib")
    assert render.tf.placeholder is tf1.placeholder
    assert render.tf.train.AdamOptimizer is tf1.train.AdamOptimizer
    assert transform.tf.contrib.image.rotate is rotate


def test_rotate_quarter_turn_is_counter_clockwise():
    images = np.random.default_rng(0).random((2, 5, 5, 3)).astype(np.float32)
    rotated = evaluate(lambda: rotate(images, np.pi / 2))
    np.testing.assert_array_equal(rotated, np.rot90(images, 1, axes=(1, 2)))
    single = evaluate(lambda: rotate(images[0], -np.pi / 2))
    np.testing.assert_array_equal(single, np.rot90(images[0], -1))


def test_rotate_small_angle_fills_corners_with_zeros():
    image = np.ones((1, 9, 9, 1), np.float32)
    rotated = evaluate(lambda: rotate(image, np.pi / 4))
    assert rotated[0, 4, 4, 0] == 1
    assert rotated[0, 0, 0, 0] == 0
    assert rotated.shape == image.shape


def test_rotate_gradient_rotates_back():
    images = np.random.default_rng(1).random((1, 6, 6, 2)).astype(np.float32)
    weights = np.random.default_rng(2).random((1, 6, 6, 2)).astype(np.float32)

    def gradient():
        x = tf.constant(images)
        return tf1.gradients(tf.reduce_sum(rotate(x, np.pi / 2) * weights), x)[0]

    np.testing.assert_allclose(evaluate(gradient), np.rot90(weights, -1, axes=(1, 2)), rtol=1e-6)


def test_lucid_random_rotate_uses_rotate(lucid):
    _, _, transform = lucid
    image = np.random.default_rng(3).random((1, 16, 16, 3)).astype(np.float32)
    # One angle to choose from: Lucid converts 7 degrees with its own pi (3.14).
    by_lucid = evaluate(lambda: transform.random_rotate([7])(tf.constant(image)))
    direct = evaluate(lambda: rotate(image, 3.14 * 7 / 180.0))
    np.testing.assert_array_equal(by_lucid, direct)
    assert np.abs(by_lucid - image).max() > 0.1


def test_slim_backs_cppn(lucid):
    param, _, _ = lucid
    import tf_slim

    assert sys.modules["lucid.optvis.param.cppn"].slim is tf_slim
    with tf.Graph().as_default() as graph, tf1.Session() as sess:
        image = param.cppn(16)
        sess.run(tf1.global_variables_initializer())
        pixels = sess.run(image)
        assert len(graph.get_collection(tf1.GraphKeys.TRAINABLE_VARIABLES)) == 18  # 9 convs, weights + biases
    assert pixels.shape == (1, 16, 16, 3)
    assert pixels.min() > 0 and pixels.max() < 1


def test_lucid_sessions_run_one_op_at_a_time(lucid):
    _, render, _ = lucid
    assert render.tf.Session is Session
    with tf.Graph().as_default():
        with render.tf.Session() as sess:
            assert sess._config.inter_op_parallelism_threads == 1
            assert sess._config.use_per_session_threads  # not the process's shared pool (see the module)
        config = tf1.ConfigProto(inter_op_parallelism_threads=3)
        with render.tf.Session(config=config) as sess:
            assert sess._config.inter_op_parallelism_threads == 3


def test_render_vis_with_default_transforms_raises_the_objective(lucid, embedded_model):
    param, render, _ = lucid
    from lucid.optvis import objectives

    objective = objectives.channel("mixed3a_pre_relu", 83)

    def channel_mean(steps):
        np.random.seed(0)
        images = render.render_vis(embedded_model.lucid, objective, param_f=lambda: param.image(28, batch=2),
                                   thresholds=(steps,), verbose=False)[-1]
        with tf.Graph().as_default(), tf1.Session() as sess:
            t_input, T = embedded_model.import_graph()
            return sess.run(T("mixed3a_pre_relu"), {t_input: images})[..., 83].mean()

    assert channel_mean(64) > channel_mean(0) + 10



@pytest.mark.slow
def test_renders_do_not_depend_on_the_sessions_made_before(inceptionv1_path):
    """A render after another session in the process (an importance scan's) equals one in a fresh process."""
    import subprocess

    from inception_tools.models import load_model
    from inception_tools.surgery import Network
    from inception_tools.visualization import RenderConfig, render

    model = load_model("InceptionV1", inceptionv1_path, layers=["mixed5a"])
    net = Network(model, "mixed5a")  # a session with the default (shared, all-core) inter-op pool
    net.layer_activations(np.zeros((1, 224, 224, 3), np.float32))
    here = render(model, "mixed5a", [0], RenderConfig(steps=4, size=96)).tobytes().hex()
    code = ("import sys; from inception_tools.models import load_model; "
            "from inception_tools.visualization import RenderConfig, render; "
            "m = load_model('InceptionV1', sys.argv[1], layers=['mixed5a']); "
            "print(render(m, 'mixed5a', [0], RenderConfig(steps=4, size=96)).tobytes().hex())")
    fresh = subprocess.run([sys.executable, "-c", code, inceptionv1_path], capture_output=True, text=True,
                           check=True).stdout.split()[-1]
    assert here == fresh
