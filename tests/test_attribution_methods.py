"""Each saliency method on the embedded model, checked against an independent computation or its defining property."""

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.attribution import (gradcam, gradient, grad_x_input, guided_backprop, guided_gradcam,
                                         integrated_gradients, smoothgrad, targets)
from inception_tools.attribution import methods as registry
from inception_tools.attribution.graph import AttributionGraph
from inception_tools.errors import UserError

tf1 = tf.compat.v1


@pytest.fixture(scope="module")
def model():
    from inception_tools.models import load_model

    return load_model("embedded")


@pytest.fixture(scope="module")
def images(model):
    from inception_tools.data import load_dataset

    return load_dataset("embedded", model, limit=4).images(0, 4)


@pytest.fixture(scope="module")
def plain(model):
    graph = AttributionGraph(model, "mixed4a")
    yield graph
    graph.close()


@pytest.fixture(scope="module")
def guided(model):
    graph = AttributionGraph(model, "mixed4a", guided=True)
    yield graph
    graph.close()


CLASSES = np.array([3, 0, 7, 9])


def independent_gradient(model, images, classes):
    """d logit / d [0, 1] pixels through the raw GraphDef (no Lucid): input = lo + x (hi - lo)."""
    lo, hi = model.value_range
    with tf.Graph().as_default(), tf1.Session() as sess:
        x = tf1.placeholder(tf.float32, [None, 28, 28, 3])
        tf1.import_graph_def(model.graph_def, {"input:0": lo + x * (hi - lo)}, name="raw")
        logits = sess.graph.get_tensor_by_name("raw/softmax2_pre_activation:0")
        score = tf.reduce_sum(tf.gather(logits, classes, axis=1, batch_dims=1))
        return sess.run(tf1.gradients(score, x)[0], {x: images})


def test_gradient_equals_tf_gradients_of_the_raw_graph(model, images, plain):
    got = gradient.attribute(plain, images, CLASSES)
    assert got.shape == images.shape
    np.testing.assert_allclose(got, independent_gradient(model, images, CLASSES), rtol=1e-4, atol=1e-5)
    assert np.abs(got).max() > 0


def test_grad_x_input_is_the_product(images, plain):
    np.testing.assert_allclose(grad_x_input.attribute(plain, images, CLASSES),
                               images * gradient.attribute(plain, images, CLASSES), rtol=1e-6)
    half = grad_x_input.attribute(plain, images, CLASSES, baselines=images / 2)
    np.testing.assert_allclose(half, images / 2 * gradient.attribute(plain, images, CLASSES), rtol=1e-5, atol=1e-7)


def test_integrated_gradients_completeness(images, plain):
    ig = integrated_gradients.attribute(plain, images, CLASSES, steps=64)
    gap = integrated_gradients.completeness_gap(plain, images, CLASSES, ig)
    change = plain.run(plain.score, images, CLASSES) - plain.run(plain.score, np.zeros_like(images), CLASSES)
    assert np.all(np.abs(change) > 0.5)  # a real change to account for
    assert np.all(np.abs(gap) < 0.02 * np.abs(change)), (gap, change)
    coarse = integrated_gradients.completeness_gap(plain, images, CLASSES,
                                                   integrated_gradients.attribute(plain, images, CLASSES, steps=2))
    assert np.abs(coarse).sum() > np.abs(gap).sum()  # fewer steps, larger error: the gap measures something


def test_integrated_gradients_from_the_image_itself_is_zero(images, plain):
    assert np.all(integrated_gradients.attribute(plain, images, CLASSES, baselines=images, steps=4) == 0)


def test_smoothgrad_is_seeded_per_image_and_without_noise_is_the_gradient(images, plain):
    np.testing.assert_allclose(smoothgrad.attribute(plain, images, CLASSES, samples=2, noise=0.0),
                               gradient.attribute(plain, images, CLASSES), rtol=1e-5, atol=1e-6)
    whole = smoothgrad.attribute(plain, images, CLASSES, samples=4, seed=3)
    tail = smoothgrad.attribute(plain, images[2:], CLASSES[2:], samples=4, seed=3, batch_size=3, first_index=2)
    np.testing.assert_allclose(whole[2:], tail, rtol=1e-5, atol=1e-6)
    other = smoothgrad.attribute(plain, images, CLASSES, samples=4, seed=4)
    assert not np.allclose(whole, other)


def test_guided_backprop_passes_only_positive_gradients_through_relus(model, images, plain, guided):
    forward = [g.run(g.logits, images, CLASSES) for g in (plain, guided)]
    np.testing.assert_allclose(forward[0], forward[1], rtol=1e-6)  # the forward pass is untouched
    relus = [op for op in guided.graph.get_operations() if op.type == "Relu"]
    assert len(relus) > 10
    with guided.graph.as_default():
        into = tf1.gradients(tf.reduce_sum(guided.score), [op.inputs[0] for op in relus])
    relus = [op for op, g in zip(relus, into) if g is not None]  # those on the way to the score
    into = [g for g in into if g is not None]
    assert len(relus) > 10
    with plain.graph.as_default():
        plain_relus = [plain.graph.get_operation_by_name(op.name) for op in relus]
        plain_into = tf1.gradients(tf.reduce_sum(plain.score), [op.inputs[0] for op in plain_relus])
    guided_values = guided.run(into, images, CLASSES)
    plain_values = plain.run(plain_into, images, CLASSES)
    assert all(v.min() >= 0 for v in guided_values)
    assert any(v.min() < 0 for v in plain_values)  # the ordinary gradient does go negative there
    result = guided_backprop.attribute(guided, images, CLASSES)
    assert result.shape == images.shape and not np.allclose(result, gradient.attribute(plain, images, CLASSES))


def test_guided_backprop_refuses_a_plain_graph(images, plain):
    with pytest.raises(UserError, match="guided ReLU"):
        guided_backprop.attribute(plain, images, CLASSES)


def test_gradcam_shape_non_negative_and_its_definition(images, plain):
    cam = gradcam.attribute(plain, images, CLASSES)
    assert cam.shape == (4, 28, 28) and cam.min() >= 0 and cam.max() > 0
    acts, grads = plain.run([plain.layer, plain.layer_gradient], images, CLASSES)
    small = np.maximum((grads.mean(axis=(1, 2), keepdims=True) * acts).sum(axis=-1), 0)  # [4, 7, 7]
    expected = tf.image.resize(small[..., None], (28, 28), method="bilinear").numpy()[..., 0]
    np.testing.assert_allclose(cam, expected, rtol=1e-4, atol=1e-5)


def test_gradcam_needs_a_layer(model, images):
    graph = AttributionGraph(model)
    try:
        with pytest.raises(UserError, match="needs a layer"):
            gradcam.attribute(graph, images, CLASSES)
    finally:
        graph.close()


def test_guided_gradcam_is_guided_backprop_times_gradcam(images, plain, guided):
    np.testing.assert_allclose(guided_gradcam.attribute(guided, plain, images, CLASSES),
                               guided_backprop.attribute(guided, images, CLASSES)
                               * gradcam.attribute(plain, images, CLASSES)[..., None], rtol=1e-5, atol=1e-7)


def test_maps_of_every_method_in_batches(model, images):
    with registry.Graphs(model, tuple(registry.METHODS), "mixed4a") as graphs:
        settings = registry.Settings(ig_steps=4, smoothgrad_samples=2, batch_size=3)
        maps = registry.maps(graphs, lambda a, b: images[a:b], 4, CLASSES, settings)
        assert maps.shape == (7, 4, 28, 28)
        np.testing.assert_allclose(maps[0], gradient.attribute(graphs.plain, images, CLASSES).sum(-1), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(maps[5], gradcam.attribute(graphs.plain, images, CLASSES), rtol=1e-5, atol=1e-6)


def test_method_names_are_checked():
    assert registry.check_methods(["gradcam", "gradient"]) == ("gradcam", "gradient")
    for bad, message in ((["saliency"], "unknown method 'saliency'"), ([], "empty"),
                         (["gradient", "gradient"], "twice")):
        with pytest.raises(UserError, match=message):
            registry.check_methods(bad)
    assert registry.needs_layer(registry.METHODS) == ["gradcam", "guided-gradcam"]


def test_classes_by_index_id_name_or_synonym(standin_dir):
    from inception_tools.models import load_model

    model = load_model("InceptionV1", str(standin_dir / "InceptionV1.pb"))
    model.label_names[5] = "tiger cat"
    model.label_names[7] = "kit fox, Vulpes macrotis"
    assert targets.class_index("5", model) == 5
    assert targets.class_index("Tiger Cat", model) == 5
    assert targets.class_index("kit fox", model) == targets.class_index("vulpes macrotis", model) == 7
    assert targets.class_index(model.label_ids[9], model) == 9
    for bad in ("0", "zebra cat", "1005"):  # index 0 is the dummy class, 1005 an unused output
        with pytest.raises(UserError, match=f"unknown class '{bad}' for InceptionV1"):
            targets.class_index(bad, model)
    logits = np.zeros((2, model.num_classes))
    logits[:, 0] = 100  # the dummy output is never the top class
    logits[0, 3], logits[1, 8] = 5, 6
    assert targets.resolve("top", model, logits).tolist() == [3, 8]
    assert targets.resolve("tiger cat", model, logits).tolist() == [5, 5]
