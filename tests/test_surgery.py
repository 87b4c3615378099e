"""partial_run imputation: splicing, the verify self-check, and pixel scaling done once."""

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.surgery import Network, splice_identity

tf1 = tf.compat.v1


def _images(model, n=6, seed=0):
    return np.random.RandomState(seed).rand(n, *model.image_shape).astype(np.float32)


def _raw_logits(model, pixels):
    """The frozen graph run directly on value-range pixels, without Lucid."""
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(model.graph_def, name="")
        with tf1.Session(graph=graph) as session:
            return session.run(model.logits_name() + ":0", {model.input_name + ":0": pixels})


def _reads(node, name):
    return any(i in (name, name + ":0") for i in node.input)


def test_splice_rewires_every_consumer(embedded_model):
    original = [n.name for n in embedded_model.graph_def.node if _reads(n, "maxpool0")]
    assert len(original) == 4  # mixed3a's 1x1, two bottlenecks and its pool
    graph_def = tf1.GraphDef()
    graph_def.CopyFrom(embedded_model.graph_def)
    next(n for n in graph_def.node if n.name == original[0]).input[0] = "maxpool0:0"  # the explicit spelling
    spliced = splice_identity(graph_def, "maxpool0")
    assert [n.name for n in spliced.node if _reads(n, "maxpool0")] == ["maxpool0_imputed"]
    assert sorted(n.name for n in spliced.node if _reads(n, "maxpool0_imputed")) == sorted(original)


def test_verify_reproduces_unablated_output(embedded_model):
    net = Network(embedded_model, "mixed4a")
    assert net.unrewired_consumers() == []
    assert net.verify(_images(embedded_model)) <= 1e-5


def _splice_leaving(skipped):
    """A faulty splice that leaves the consumers named in ``skipped`` reading the layer."""

    def splice(graph_def, layer, suffix="_imputed"):
        spliced = splice_identity(graph_def, layer, suffix)
        for node in spliced.node:
            if node.name in skipped:
                node.input[:] = [layer if i == layer + suffix else i for i in node.input]
        return spliced

    return splice


def test_verify_detects_a_consumer_left_unrewired(standin_dir, monkeypatch):
    # Before: verify fed the layer's own values back, so the logits matched either way.
    from inception_tools import surgery
    from inception_tools.errors import UserError
    from inception_tools.models import load_model

    model = load_model("InceptionV1", str(standin_dir / "InceptionV1.pb"), layers=["mixed3a"])
    monkeypatch.setattr(surgery, "splice_identity", _splice_leaving({"mixed3b_pool"}))
    net = Network(model, "mixed3a")
    assert net.unrewired_consumers() == ["import/mixed3b_pool"]
    with pytest.raises(UserError, match="bypassed .*import/mixed3b_pool still read"):
        net.verify(_images(model, n=1))


def test_verify_detects_an_imputation_point_that_feeds_nothing(embedded_model, monkeypatch):
    from inception_tools import surgery
    from inception_tools.errors import UserError

    monkeypatch.setattr(surgery, "splice_identity", _splice_leaving({"maxpool4"}))
    with pytest.raises(UserError, match="verify failed: the imputation point of mixed3a is bypassed"):
        Network(embedded_model, "mixed3a").verify(_images(embedded_model))


def test_verify_on_inceptionv1(inceptionv1_path):
    from inception_tools.models import load_model

    model = load_model("InceptionV1", inceptionv1_path, layers=["mixed5a"])
    assert Network(model, "mixed5a").verify(_images(model, n=2)) <= 1e-4


def test_imputation_equals_running_the_suffix_on_edited_activations(embedded_model):
    net = Network(embedded_model, "mixed3a")
    images = _images(embedded_model)
    acts = net.layer_activations(images)
    channels = [1, 5]
    values = [0.25, 3.0]
    edited = acts.copy()
    edited[..., channels] = values
    expected = net.session.run(net.logits, {net.imputed: edited})
    got = net.imputed_logits(images, channels, values)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    assert np.abs(got - net.unablated_logits(images)).max() > 1e-3


def test_pixels_are_scaled_exactly_once(embedded_model):
    """[0, 1] images through Lucid's input equal value-range pixels fed to the raw graph."""
    images = _images(embedded_model)
    lo, hi = embedded_model.value_range
    ours = Network(embedded_model, "mixed4a").unablated_logits(images)
    np.testing.assert_allclose(ours, _raw_logits(embedded_model, lo + images * (hi - lo)), rtol=1e-5, atol=1e-5)
    # Scaling twice (the study's preprocessing) is a different input, and visibly so.
    double = lo + (lo + images * (hi - lo)) * (hi - lo)
    assert np.abs(_raw_logits(embedded_model, double) - ours).max() > 1.0


def test_study_pixel_scaling_reproduces_double_scaling(embedded_model):
    images = _images(embedded_model)
    lo, hi = embedded_model.value_range
    study = Network(embedded_model, "mixed4a", pixel_scaling="study").unablated_logits(images)
    double = lo + (lo + images * (hi - lo)) * (hi - lo)
    np.testing.assert_allclose(study, _raw_logits(embedded_model, double), rtol=1e-5, atol=1e-4)


def test_inceptionv1_pixels_scaled_once(inceptionv1_path):
    from inception_tools.models import load_model

    model = load_model("InceptionV1", inceptionv1_path, layers=["mixed5a"])
    images = _images(model, n=2)
    ours = Network(model, "mixed5a").unablated_logits(images)
    np.testing.assert_allclose(ours, _raw_logits(model, images * 255 - 117), rtol=1e-4, atol=1e-4)


def test_unknown_pixel_scaling(embedded_model):
    from inception_tools.errors import UserError

    with pytest.raises(UserError, match="pixel scaling"):
        Network(embedded_model, "mixed4a", pixel_scaling="twice")
