"""Contributing-unit definitions of the classes stage: Teague's (source), its gradient variant, ours (active)."""

import json

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.classes import class_study
from inception_tools.classes.config import ClassesConfig
from inception_tools.classes.collect import collect
from inception_tools.classes.contribution import attribution_signs, keep_masks, path_weights
from inception_tools.cli import main
from inception_tools.data import load_dataset
from inception_tools.errors import UserError
from inception_tools.models import load_model

tf1 = tf.compat.v1
DIGITS = list(range(10))


@pytest.fixture(scope="module")
def mlp():
    return load_model("embedded-mlp")


def constants(model):
    return {n.name: tf.make_ndarray(n.attr["value"].tensor) for n in model.graph_def.node if n.op == "Const"}


def test_path_weights_are_the_products_of_the_weight_matrices(mlp):
    w = constants(mlp)
    got = path_weights(mlp, ["flatten", "dense1", "dense2", "dense3"])
    np.testing.assert_allclose(got["dense3"], w["softmax2_w"], rtol=1e-6)
    np.testing.assert_allclose(got["dense2"], w["dense3_w"].astype(float) @ w["softmax2_w"], rtol=1e-6)
    full = w["dense1_w"].astype(float) @ w["dense2_w"] @ w["dense3_w"] @ w["softmax2_w"]
    np.testing.assert_allclose(got["flatten"], full, rtol=1e-6)
    assert keep_masks(mlp, ["dense3"])["dense3"].shape == (10, 32)


def test_source_definition_zeroes_values_with_a_negative_path_weight(mlp, tmp_path):
    dataset = load_dataset("embedded", mlp)
    layers = ["dense1", "dense3"]
    active, _, kept, _ = collect(mlp, dataset, ClassesConfig(tuple(layers), replicates=0), DIGITS)
    source, _, kept2, _ = collect(mlp, dataset, ClassesConfig(tuple(layers), replicates=0, definition="source"), DIGITS)
    assert kept.tolist() == kept2.tolist()
    keep = keep_masks(mlp, layers)
    for layer in layers:
        # a value is kept exactly where the path weight to the digit is positive
        np.testing.assert_allclose(source[layer].mean, active[layer].mean * keep[layer][DIGITS])
        assert (source[layer].count == active[layer].count * keep[layer][DIGITS]).all()
        assert (source[layer].contributing() == (active[layer].contributing() & keep[layer][DIGITS])).all()
    # the source's "under half of each layer" holds on our MLP, ours counts nearly every unit
    assert source["dense3"].contributing().sum(axis=1).max() <= 32 / 2 < active["dense3"].contributing().sum(axis=1).min()


def test_gradient_variant_equals_source_in_the_last_hidden_layer_and_differs_before(mlp, tmp_path):
    dataset = load_dataset("embedded", mlp)
    layers = ["dense1", "dense3"]
    source, *_ = collect(mlp, dataset, ClassesConfig(tuple(layers), replicates=0, definition="source"), DIGITS)
    grad, *_ = collect(mlp, dataset, ClassesConfig(tuple(layers), replicates=0, definition="source-gradient"), DIGITS)
    np.testing.assert_allclose(grad["dense3"].mean, source["dense3"].mean, rtol=1e-6, atol=1e-9)
    assert (grad["dense1"].contributing() != source["dense1"].contributing()).any()


def test_attribution_signs_sum_over_positions():
    acts = np.ones((1, 2, 2, 2))
    grads = np.array([[[[1.0, -1.0], [1.0, -1.0]], [[-3.0, 1.0], [1.0, 1.0]]]])
    assert attribution_signs(acts, grads).tolist() == [[False, False]]
    assert attribution_signs(acts[:, 0, 0], grads[:, 0, 0]).tolist() == [[True, False]]


def test_gradient_variant_runs_on_a_convnet_and_source_is_refused_there(tmp_path):
    conv = load_model("embedded")
    dataset = load_dataset("embedded", conv, limit=64)
    with pytest.raises(UserError, match="source-gradient"):
        class_study(conv, dataset, ClassesConfig(("mixed4a",), definition="source", replicates=0), str(tmp_path / "s"))
    assert not (tmp_path / "s").exists()  # refused before the folder is made
    summary = class_study(conv, dataset, ClassesConfig(("mixed4a",), definition="source-gradient", replicates=0),
                          str(tmp_path / "g")).summary
    active = class_study(conv, dataset, ClassesConfig(("mixed4a",), replicates=0), str(tmp_path / "a")).summary
    assert summary["settings"]["definition"] == "source-gradient" and active["settings"]["definition"] == "active"
    assert summary["layers"]["mixed4a"]["contributing_mean"] < active["layers"]["mixed4a"]["contributing_mean"]


def test_command_takes_the_definition_and_a_rerun_with_another_is_refused(capsys, tmp_path):
    out = str(tmp_path / "c")
    args = ["classes", "--model", "embedded-mlp", "--layers", "dense3", "--limit", "100", "--bootstrap", "0", "--out", out]
    assert main(args + ["--definition", "source"]) == 0
    with open(f"{out}/classes.json") as f:
        assert json.load(f)["settings"]["definition"] == "source"
    assert "source (Teague" in open(f"{out}/index.html").read()
    capsys.readouterr()
    assert main(args + ["--definition", "active"]) == 2
    assert "definition" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(args + ["--definition", "nonsense"])
    assert exit_info.value.code == 2
