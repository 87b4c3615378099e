"""The graph builder: InceptionV1 node names, parameter shapes, and what the layers compute."""

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.models.builder import (
    LRN,
    AuxHead,
    AvgPool,
    Conv,
    MaxPool,
    Mixed,
    Softmax,
    build,
    he_normal,
    layer_depths,
)

tf1 = tf.compat.v1

TINY = (
    Conv("conv2d0", kernel=3, depth=8, stride=2),
    MaxPool("maxpool0"),
    LRN("localresponsenorm0"),
    Mixed("mixed3a", 4, 3, 5, 2, 6, 7),
    AuxHead("head0_bottleneck", pool="head0_pool", source="mixed3a", depth=4, flat=16),
    Mixed("mixed4a", 2, 2, 3, 2, 2, 1),
    AvgPool("avgpool0", size=8),
    Softmax("softmax2", depth=5),
)


def build_tiny(height=32, width=32, seed=0):
    """Build TINY with seeded constants; return (graph, tensors, [(param name, shape)])."""
    rng = np.random.default_rng(seed)
    calls = []

    def param(name, shape):
        calls.append((name, list(shape)))
        value = he_normal(rng, name, shape) + (0.1 if name.endswith("_b") else 0.0)
        return tf1.constant(value, name=name)

    with tf.Graph().as_default() as graph:
        tensors = build(TINY, param, height, width)
    return graph, tensors, calls


def nodes(graph):
    return {n.name: (n.op, list(n.input)) for n in graph.as_graph_def().node}


def test_convolution_nodes_follow_inceptionv1_naming():
    graph, _, _ = build_tiny()
    n = nodes(graph)
    assert n["input"][0] == "Placeholder"
    assert n["conv2d0_pre_relu/conv"] == ("Conv2D", ["input", "conv2d0_w"])
    assert n["conv2d0_pre_relu"] == ("BiasAdd", ["conv2d0_pre_relu/conv", "conv2d0_b"])
    assert n["conv2d0"] == ("Relu", ["conv2d0_pre_relu"])
    assert n["maxpool0"] == ("MaxPool", ["conv2d0"])
    assert n["localresponsenorm0"] == ("LRN", ["maxpool0"])


def test_mixed_block_is_a_concat_of_four_branches_in_order():
    graph, _, _ = build_tiny()
    n = nodes(graph)
    assert n["mixed3a"] == (
        "Concat",
        ["mixed3a/concat_dim", "mixed3a_1x1", "mixed3a_3x3", "mixed3a_5x5", "mixed3a_pool_reduce"],
    )
    assert n["mixed3a_3x3_pre_relu/conv"][1] == ["mixed3a_3x3_bottleneck", "mixed3a_3x3_w"]
    assert n["mixed3a_5x5_pre_relu/conv"][1] == ["mixed3a_5x5_bottleneck", "mixed3a_5x5_w"]
    assert n["mixed3a_pool"] == ("MaxPool", ["localresponsenorm0"])
    assert n["mixed3a_pool_reduce_pre_relu/conv"][1] == ["mixed3a_pool", "mixed3a_pool_reduce_w"]
    for branch in ("1x1", "3x3_bottleneck", "5x5_bottleneck"):
        assert n[f"mixed3a_{branch}_pre_relu/conv"][1][0] == "localresponsenorm0"
    # The next block reads the concat, not the auxiliary head.
    assert n["mixed4a_1x1_pre_relu/conv"][1][0] == "mixed3a"


def test_head_and_classifier_nodes():
    graph, _, _ = build_tiny()
    n = nodes(graph)
    assert n["head0_pool"] == ("AvgPool", ["mixed3a"])
    assert n["head0_bottleneck"] == ("Relu", ["head0_bottleneck_pre_relu"])
    assert n["head0_bottleneck/reshape"][1][0] == "head0_bottleneck"
    assert n["avgpool0"] == ("AvgPool", ["mixed4a"])
    assert n["softmax2_pre_activation/matmul"] == ("MatMul", ["avgpool0/reshape", "softmax2_w"])
    assert n["softmax2_pre_activation"] == ("BiasAdd", ["softmax2_pre_activation/matmul", "softmax2_b"])
    assert n["softmax2"] == ("Softmax", ["softmax2_pre_activation"])


def test_parameters_are_requested_in_graph_order_with_their_shapes():
    _, _, calls = build_tiny()
    shapes = dict(calls)
    assert calls[:2] == [("conv2d0_w", [3, 3, 3, 8]), ("conv2d0_b", [8])]
    assert shapes["mixed3a_1x1_w"] == [1, 1, 8, 4]
    assert shapes["mixed3a_3x3_w"] == [3, 3, 3, 5]
    assert shapes["mixed3a_5x5_w"] == [5, 5, 2, 6]
    assert shapes["mixed3a_pool_reduce_w"] == [1, 1, 8, 7]
    assert shapes["head0_bottleneck_w"] == [1, 1, 22, 4]
    assert shapes["mixed4a_1x1_w"] == [1, 1, 22, 2]
    assert shapes["softmax2_w"] == [8, 5]
    assert len(calls) == len(shapes) == 2 * (1 + 6 + 1 + 6 + 1)


def test_layer_depths_and_static_shapes():
    _, tensors, _ = build_tiny()
    assert layer_depths(TINY) == {"conv2d0": 8, "mixed3a": 22, "head0_bottleneck": 4, "mixed4a": 8, "softmax2": 5}
    assert tensors["input"].shape.as_list() == [None, 32, 32, 3]
    assert tensors["conv2d0"].shape.as_list() == [None, 16, 16, 8]
    assert tensors["mixed3a"].shape.as_list() == [None, 8, 8, 22]
    assert tensors["head0_bottleneck"].shape.as_list() == [None, 2, 2, 4]
    assert tensors["mixed4a"].shape.as_list() == [None, 8, 8, 8]
    assert tensors["avgpool0"].shape.as_list() == [None, 1, 1, 8]
    assert tensors["softmax2"].shape.as_list() == [None, 5]


def test_spatial_size_may_be_left_open():
    _, tensors, _ = build_tiny(height=None, width=None)
    assert tensors["input"].shape.as_list() == [None, None, None, 3]
    assert tensors["mixed4a"].shape.as_list() == [None, None, None, 8]


def test_layers_compute_what_their_names_say():
    graph, t, _ = build_tiny()
    x = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    fetch = ["conv2d0_pre_relu", "conv2d0", "mixed3a_1x1", "mixed3a_3x3", "mixed3a_5x5", "mixed3a_pool_reduce", "mixed3a"]
    fetch += ["mixed4a", "avgpool0/reshape", "softmax2_w", "softmax2_b", "softmax2_pre_activation", "softmax2"]
    with tf1.Session(graph=graph) as sess:
        v = dict(zip(fetch, sess.run([f"{name}:0" for name in fetch], {t["input"]: x})))
    np.testing.assert_array_equal(v["conv2d0"], np.maximum(v["conv2d0_pre_relu"], 0))
    branches = [v[f"mixed3a_{b}"] for b in ("1x1", "3x3", "5x5", "pool_reduce")]
    np.testing.assert_array_equal(v["mixed3a"], np.concatenate(branches, axis=-1))
    np.testing.assert_allclose(v["avgpool0/reshape"], v["mixed4a"].mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    logits = v["avgpool0/reshape"] @ v["softmax2_w"] + v["softmax2_b"]
    np.testing.assert_allclose(v["softmax2_pre_activation"], logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(v["softmax2"].sum(axis=1), 1.0, rtol=1e-5)


def test_same_builder_makes_a_trainable_graph_with_the_same_nodes():
    frozen, _, _ = build_tiny()
    with tf.Graph().as_default() as graph:
        build(TINY, lambda name, shape: tf1.Variable(tf1.zeros(shape), name=name), 32, 32)
        variables = {v.op.name: v.shape.as_list() for v in tf1.global_variables()}
    constants = {
        n.name: [d.size for d in n.attr["value"].tensor.tensor_shape.dim]
        for n in frozen.as_graph_def().node
        if n.name.endswith(("_w", "_b"))
    }
    assert variables == constants
    layer_ops = {name for name, (op, _) in nodes(frozen).items() if op != "Const"}
    assert layer_ops <= {op.name for op in graph.get_operations()}


def test_he_normal_scale_and_seed():
    w = he_normal(np.random.default_rng(0), "x_w", [3, 3, 64, 256])
    assert w.dtype == np.float32
    assert w.std() == pytest.approx(np.sqrt(2 / (3 * 3 * 64)), rel=0.02)
    assert he_normal(np.random.default_rng(0), "x_w", [5, 7], input_std=10).std() < 0.2
    np.testing.assert_array_equal(w, he_normal(np.random.default_rng(0), "x_w", [3, 3, 64, 256]))
    np.testing.assert_array_equal(he_normal(np.random.default_rng(0), "x_b", [6]), np.zeros(6))
