"""lucid_compat.install(): TF1 notebook code and any lucid module run unchanged on TF2.

Each case runs in its own Python process, since install() changes the process for good.
"""

import subprocess
import sys
import textwrap

import pytest

PRELUDE = "from inception_tools.lucid_compat import install\n"


def run_notebook(code, tmp_path):
    script = tmp_path / "notebook.py"
    script.write_text(PRELUDE + textwrap.dedent(code))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_placeholder_session_and_gradients(tmp_path):
    out = run_notebook("""
        install()
        import tensorflow as tf
        x = tf.placeholder(tf.float32, [None])
        y = tf.reduce_sum(x * x)
        (grad,) = tf.gradients(y, x)
        with tf.Session() as sess:
            print(sess.run([y, grad], {x: [1.0, 2.0]}))
    """, tmp_path)
    assert "5.0" in out and "[2., 4.]" in out


def test_gradient_override_redirected_relu(tmp_path):
    out = run_notebook("""
        install()
        import tensorflow as tf
        from lucid.misc.gradient_override import gradient_override_map
        from lucid.misc.redirected_relu_grad import redirected_relu_grad
        global_step = tf.train.get_or_create_global_step()
        x = tf.constant([[-1.0, -2.0]])
        with gradient_override_map({"Relu": redirected_relu_grad}):
            y = tf.nn.relu(x)
        plain = tf.nn.relu(x)
        up = tf.constant([[-1.0, -1.0]])  # a negative gradient pushes the input up under descent
        with tf.Session() as sess:
            sess.run(tf.variables_initializer([global_step]))
            print(sess.run(tf.gradients(y, x, grad_ys=up)[0]).tolist(), sess.run(tf.gradients(plain, x, grad_ys=up)[0]).tolist())
    """, tmp_path)
    assert out.replace("-0.0", "0.0").split() == ["[[-1.0,", "-1.0]]", "[[0.0,", "0.0]]"]


def test_modules_imported_before_install_are_rebound(tmp_path):
    out = run_notebook("""
        import tensorflow
        import lucid.misc.gradient_override as override  # imports on plain TF2, bound to it
        assert override.tf is tensorflow
        view = install()
        assert override.tf is view and override.tf.get_default_graph is not None
        import tensorflow as tf
        assert tf is view
        with override.gradient_override_map({"Relu": "Identity"}):
            y = tf.nn.relu(tf.constant([-3.0]))
        print(tf.get_default_graph().get_operation_by_name(y.op.name).get_attr("T"))
    """, tmp_path)
    assert "float32" in out


def test_nets_factory_recipes_and_channel_reducer_import(tmp_path):
    out = run_notebook("""
        install()
        from lucid.modelzoo import nets_factory
        import lucid.recipes.caricature, lucid.recipes.image_interpolation_params
        import lucid.optvis.param.cppn
        from lucid.misc.channel_reducer import ChannelReducer
        print(type(nets_factory.get_model("InceptionV1")).__name__)
    """, tmp_path)
    assert "InceptionV1" in out


def test_import_graph_without_graph_context_and_render(tmp_path):
    out = run_notebook("""
        install()
        import numpy as np
        import tensorflow as tf
        from inception_tools.models import load_model
        import lucid.optvis.render as render
        model = load_model("embedded").lucid
        t_input = tf.placeholder(tf.float32, [None, 28, 28, 3])
        T = model.import_graph(t_input)
        with tf.Session() as sess:
            print(sess.run(T("softmax2"), {t_input: np.zeros((1, 28, 28, 3), np.float32)}).shape)
        images = render.render_vis(model, "mixed3a:0", thresholds=(4,), verbose=False)
        print(images[-1].shape)
    """, tmp_path)
    assert "(1, 10)" in out and "(1, 128, 128, 3)" in out


def test_model_save_and_load_round_trip(tmp_path):
    out = run_notebook("""
        install()
        import numpy as np
        import tensorflow as tf
        from lucid.modelzoo.vision_base import Model
        x = tf.placeholder(tf.float32, [None, 4, 4, 3], name="input")
        w = tf.Variable(np.ones((48, 2), np.float32))
        logits = tf.matmul(tf.reshape(x, [-1, 48]), w)
        tf.nn.softmax(logits, name="probs")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            Model.save("saved.pb", "input", ["probs"], [4, 4, 3], [0, 1])
        with tf.Graph().as_default():
            model = Model.load("saved.pb")
            T = model.import_graph()  # no input given: Lucid makes its own placeholder
            with tf.Session() as sess:
                fed = {tf.get_default_graph().get_tensor_by_name("Placeholder:0"): np.ones((4, 4, 3))}
                print(model.image_shape, sess.run(T("probs"), fed).round(3).tolist())
    """, tmp_path)
    assert "[4, 4, 3]" in out and "[[0.5, 0.5]]" in out


def test_toolkit_still_works_after_install(tmp_path):
    out = run_notebook("""
        install()
        import numpy as np
        from inception_tools.data import load_dataset
        from inception_tools.models import load_model
        from inception_tools.surgery import Network
        model = load_model("embedded")
        net = Network(model, "mixed3a")
        images = load_dataset("embedded", model, limit=8).images(0, 8)
        print(net.verify(images) < 1e-4, net.layer_activations(images).shape)
    """, tmp_path)
    assert "True (8, 14, 14, 96)" in out or "True (8," in out
