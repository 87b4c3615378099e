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


def test_splice_rewires_every_consumer(embedded_model):
    spliced = splice_identity(embedded_model.graph_def, "mixed3a")
    consumers = [n for n in spliced.node if "mixed3a" in n.input]
    assert [n.name for n in consumers] == ["mixed3a_imputed"]
    assert any("mixed3a_imputed" in n.input for n in spliced.node)


def test_verify_reproduces_unablated_output(embedded_model):
    net = Network(embedded_model, "mixed4a")
    assert net.verify(_images(embedded_model)) <= 1e-5


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
