"""The InceptionV1 stand-in: real node names and shapes, Lucid semantics, sane random weights."""

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.lucid_compat import import_lucid
from inception_tools.models.builder import layer_depths
from inception_tools.models.standin import INCEPTION_V1, standin_graph_def, write_standin

tf1 = tf.compat.v1

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL_PB = SHARED / "models" / "inceptionv1" / "InceptionV1.pb"

# (channels, spatial size at 224x224) from shared/reference/inceptionv1-graph.md.
REFERENCE_TABLE = {
    "conv2d0": (64, 112),
    "maxpool0": (64, 56),
    "localresponsenorm0": (64, 56),
    "conv2d1": (64, 56),
    "conv2d2": (192, 56),
    "localresponsenorm1": (192, 56),
    "maxpool1": (192, 28),
    "mixed3a": (256, 28),
    "mixed3b": (480, 28),
    "maxpool4": (480, 14),
    "mixed4a": (508, 14),
    "mixed4b": (512, 14),
    "mixed4c": (512, 14),
    "mixed4d": (528, 14),
    "mixed4e": (832, 14),
    "maxpool10": (832, 7),
    "mixed5a": (832, 7),
    "mixed5b": (1024, 7),
    "avgpool0": (1024, 1),
}
MIXED = [name for name in REFERENCE_TABLE if name.startswith("mixed")]


@pytest.fixture(scope="module")
def standin_path(tmp_path_factory):
    return write_standin(tmp_path_factory.mktemp("standin") / "standin.pb", seed=0)


@pytest.fixture(scope="module")
def graph_def(standin_path):
    graph_def = tf1.GraphDef()
    graph_def.ParseFromString(Path(standin_path).read_bytes())
    return graph_def


def static_shapes(graph_def, names, size=224):
    """Static shapes of ``names`` when the graph is fed a [1, size, size, 3] batch."""
    with tf.Graph().as_default():
        image = tf1.placeholder(tf.float32, [1, size, size, 3])
        tensors = tf1.import_graph_def(graph_def, {"input": image}, [f"{n}:0" for n in names], name="")
        return {n: t.shape.as_list() for n, t in zip(names, tensors)}


def node_signature(graph_def):
    """Per node: op, inputs and (for constants) the shape."""
    return {
        n.name: (n.op, list(n.input), [d.size for d in n.attr["value"].tensor.tensor_shape.dim])
        for n in graph_def.node
    }


def test_layer_shapes_match_the_reference_table(graph_def):
    shapes = static_shapes(graph_def, list(REFERENCE_TABLE) + ["softmax2"])
    for name, (channels, size) in REFERENCE_TABLE.items():
        assert shapes[name] == [1, size, size, channels], name
    assert shapes["softmax2"] == [1, 1008]
    assert {n: d for n, d in layer_depths(INCEPTION_V1).items() if n in REFERENCE_TABLE} == {
        n: c for n, (c, _) in REFERENCE_TABLE.items() if n.startswith(("conv", "mixed"))
    }


def test_nodes_equal_those_of_the_real_model(graph_def):
    if not SHARED.exists():
        pytest.skip("../shared (the local InceptionV1.pb) is not available")
    real = tf1.GraphDef()
    real.ParseFromString(REAL_PB.read_bytes())
    assert node_signature(graph_def) == node_signature(real)
    names = MIXED + ["softmax2", "softmax2_pre_activation", "head0_bottleneck", "head1_bottleneck"]
    assert static_shapes(graph_def, names) == static_shapes(real, names)


def test_loads_with_lucid_inceptionv1_semantics(graph_def):
    import_lucid()
    from lucid.modelzoo.vision_models import InceptionV1

    model = InceptionV1()
    model._graph_def = graph_def
    with tf.Graph().as_default(), tf1.Session() as sess:
        images = tf1.placeholder(tf.float32, [None, 224, 224, 3])
        T = model.import_graph(images, scope="import")
        assert T("mixed5a_pre_relu").shape[-1] == 832
        assert T("mixed4a_pre_relu").shape[-1] == 508
        batch = np.random.default_rng(0).uniform(0, 1, (2, 224, 224, 3))
        pre_relu, mixed5a, probs = sess.run([T("mixed5a_pre_relu"), T("mixed5a"), T("softmax2")], {images: batch})
    np.testing.assert_array_equal(mixed5a, np.maximum(pre_relu, 0))
    # Activations neither vanish nor explode through the depth.
    assert np.isfinite(mixed5a).all()
    assert 0.1 < mixed5a.std() < 10
    assert (mixed5a > 0).mean() > 0.2
    # A non-degenerate softmax: a clear favourite, far from one-hot.
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-4)
    assert (probs.max(axis=1) > 10 / 1008).all()
    assert (probs.max(axis=1) < 0.5).all()


def test_first_layer_is_scaled_to_the_pixel_value_range(graph_def):
    pixels = np.random.default_rng(1).uniform(-117, 138, (1, 64, 64, 3)).astype(np.float32)
    with tf.Graph().as_default(), tf1.Session() as sess:
        tf1.import_graph_def(graph_def, name="")
        pre_relu = sess.run("conv2d0_pre_relu:0", {"input:0": pixels})
    assert 0.5 < pre_relu.std() < 2


def test_weights_come_from_the_seed(graph_def):
    def weights(gd, name="mixed5a_3x3_w"):
        node = next(n for n in gd.node if n.name == name)
        return tf.make_ndarray(node.attr["value"].tensor)

    np.testing.assert_array_equal(weights(graph_def), weights(standin_graph_def(seed=0)))
    assert not np.array_equal(weights(graph_def), weights(standin_graph_def(seed=1)))
