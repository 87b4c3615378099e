"""The cascade's graph surgery: only the chosen constants change, seeded, the same values at every step."""

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.errors import UserError
from inception_tools.sanity import randomize

tf1 = tf.compat.v1


@pytest.fixture(scope="module")
def model():
    from inception_tools.models import load_model

    return load_model("embedded")


def edges(graph_def):
    return [(node.name, node.op, tuple(node.input)) for node in graph_def.node]


def test_blocks_go_from_the_logits_down(model):
    assert randomize.blocks(model) == ["softmax2", "mixed4a", "mixed3a", "conv2d0"]
    assert randomize.cascade(model, 2) == ["softmax2", "mixed4a"]
    for bad in (0, 5):
        with pytest.raises(UserError, match=f"cascade depth {bad} out of range: embedded has 4 blocks"):
            randomize.cascade(model, bad)


def test_inceptionv1_blocks_leave_the_auxiliary_heads_out(standin_dir):
    from inception_tools.models import load_model

    model = load_model("InceptionV1", str(standin_dir / "InceptionV1.pb"))
    assert randomize.blocks(model) == ["softmax2", "mixed5b", "mixed5a", "mixed4e", "mixed4d", "mixed4c", "mixed4b",
                                       "mixed4a", "mixed3b", "mixed3a", "conv2d2", "conv2d1", "conv2d0"]


def test_surgery_changes_only_the_chosen_constants(model):
    before = model.graph_def
    after, names = randomize.randomized(before, ["softmax2", "mixed4a"], seed=0)
    expected = sorted(n.name for n in before.node if n.op == "Const" and n.name.endswith(("_w", "_b"))
                      and (n.name.startswith("softmax2_") or n.name.startswith("mixed4a_")))
    assert sorted(names) == expected and len(expected) == 14
    assert edges(after) == edges(before)  # same nodes, same order, same ops, same inputs
    assert sorted(randomize.changed_nodes(before, after)) == expected
    old = {n.name: n for n in before.node}
    for node in after.node:
        if node.name not in expected:
            continue
        assert set(node.attr) == set(old[node.name].attr)
        assert node.attr["dtype"] == old[node.name].attr["dtype"]
        new_value, old_value = (tf1.make_ndarray(n.attr["value"].tensor) for n in (node, old[node.name]))
        assert new_value.shape == old_value.shape and new_value.dtype == old_value.dtype
        if node.name.endswith("_w"):
            assert not np.allclose(new_value, old_value)
            fan_in = np.prod(new_value.shape[:-1])
            assert abs(new_value.std() * np.sqrt(fan_in / 2) - 1) < 0.2  # He-normal
        else:
            assert np.all(new_value == 0)  # the trainer's initial biases
    assert before.SerializeToString() == model.graph_def.SerializeToString()  # the model's own graph is untouched


def test_reinitialization_is_seeded_and_the_same_at_every_step(model):
    one, _ = randomize.randomized(model.graph_def, ["softmax2"], seed=0)
    two, _ = randomize.randomized(model.graph_def, ["softmax2", "mixed4a"], seed=0)
    again, _ = randomize.randomized(model.graph_def, ["softmax2"], seed=0)
    other, _ = randomize.randomized(model.graph_def, ["softmax2"], seed=1)
    value = {name: {n.name: tf1.make_ndarray(n.attr["value"].tensor) for n in g.node if n.name == "softmax2_w"}
             for name, g in (("one", one), ("two", two), ("again", again), ("other", other))}
    assert np.array_equal(value["one"]["softmax2_w"], value["two"]["softmax2_w"])
    assert np.array_equal(value["one"]["softmax2_w"], value["again"]["softmax2_w"])
    assert not np.allclose(value["one"]["softmax2_w"], value["other"]["softmax2_w"])


def test_a_randomized_graph_runs_and_predicts_differently(model):
    from inception_tools.data import load_dataset

    images = load_dataset("embedded", model, limit=8).images(0, 8)
    logits = []
    for graph_def in (model.graph_def, randomize.randomized(model.graph_def, ["softmax2"], 0)[0]):
        with tf.Graph().as_default(), tf1.Session() as sess:
            t_input, T = model.with_graph_def(graph_def).import_graph()
            logits.append(sess.run(T("softmax2_pre_activation"), {t_input: images}))
    assert logits[0].shape == logits[1].shape and not np.allclose(logits[0], logits[1])


def test_changed_nodes_refuses_different_graphs(model):
    fewer = tf1.GraphDef()
    fewer.node.extend(model.graph_def.node[:-1])
    with pytest.raises(ValueError, match="different nodes"):
        randomize.changed_nodes(model.graph_def, fewer)
