"""Lucid visualizations of channels: they work and are reproducible (on disk: test_renders.py)."""

import os

import numpy as np
import pytest
import tensorflow as tf

from inception_tools.examples import LayerReader
from inception_tools.visualization import RenderConfig, render

tf1 = tf.compat.v1

LAYER = "mixed3a"  # the embedded model's study layer


@pytest.fixture(scope="module")
def digits(embedded_model):
    from inception_tools.data import load_dataset

    return load_dataset("embedded", embedded_model)


@pytest.fixture(scope="module")
def most_important(embedded_model, digits, tmp_path_factory):
    """The channel of mixed3a whose mean ablation costs the most test digits."""
    import csv

    from inception_tools.importance import ImportanceConfig, score_layer
    from inception_tools.surgery import Network

    out = str(tmp_path_factory.mktemp("importance") / "importance.csv")
    score_layer(Network(embedded_model, LAYER), digits, ImportanceConfig(top_k=1, batch_size=250), out)
    with open(out) as f:
        rows = list(csv.DictReader(f))
    return int(max(rows, key=lambda r: (int(r["importance"]), -float(r["mean_delta_logprob"])))["feature_ind"])


@pytest.fixture(scope="module")
def dataset_activations(embedded_model, digits):
    """``mixed3a_pre_relu`` of every test digit [1000, 14, 14, 96]."""
    dataset = digits
    reader = LayerReader(embedded_model, LAYER)
    acts = np.concatenate([reader(images) for _, images in dataset.batches(250)])
    reader.close()
    return acts


def activations(model, images):
    reader = LayerReader(model, LAYER)
    acts = reader(images)
    reader.close()
    return acts


def test_mixed_pre_relu_is_the_concat_of_the_branches(embedded_model):
    images = np.random.default_rng(0).random((2, 28, 28, 3)).astype(np.float32)
    branches = ["1x1", "3x3", "5x5", "pool_reduce"]
    with tf.Graph().as_default(), tf1.Session() as sess:
        t_input, T = embedded_model.import_graph()
        names = [f"{LAYER}_pre_relu", LAYER] + [f"{LAYER}_{b}_pre_relu" for b in branches]
        pre_relu, relu, *parts = sess.run([T(name) for name in names], {t_input: images})
    assert pre_relu.shape[-1] == embedded_model.depth(LAYER)
    np.testing.assert_array_equal(pre_relu, np.concatenate(parts, axis=-1))
    np.testing.assert_array_equal(relu, np.maximum(pre_relu, 0))
    assert pre_relu.min() < 0


def test_diversity_objective_drives_the_most_important_channel_far_above_the_dataset(
        embedded_model, dataset_activations, most_important):
    # The channel objective is the mean over positions; compare it with its largest value on any digit.
    dataset_best = dataset_activations[..., most_important].mean(axis=(1, 2)).max()
    images = render(embedded_model, LAYER, [most_important], RenderConfig(steps=256, seed=0))[0]
    reached = activations(embedded_model, images)[..., most_important].mean(axis=(1, 2))
    assert images.shape == (4, 28, 28, 3) and 0 <= images.min() and images.max() <= 1
    assert reached.min() > 3 * dataset_best
    differences = [np.abs(images[i] - images[j]).mean() for i in range(4) for j in range(i + 1, 4)]
    assert min(differences) > 0.05


def test_channel_objective_drives_all_four_images_far_above_the_dataset(embedded_model, dataset_activations,
                                                                         most_important):
    dataset_best = dataset_activations[..., most_important].mean(axis=(1, 2)).max()
    images = render(embedded_model, LAYER, [most_important], RenderConfig(steps=128, seed=0, objective="channel"))[0]
    reached = activations(embedded_model, images)[..., most_important].mean(axis=(1, 2))
    assert reached.min() > 3 * dataset_best


def test_negative_and_neuron_objectives(embedded_model, dataset_activations, most_important):
    channel = most_important
    negative = render(embedded_model, LAYER, [channel], RenderConfig(steps=256, seed=0, objective="negative"))[0]
    low = activations(embedded_model, negative)[..., channel].mean(axis=(1, 2))
    assert low.max() < np.percentile(dataset_activations[..., channel].mean(axis=(1, 2)), 1)
    neuron = render(embedded_model, LAYER, [channel], RenderConfig(steps=128, seed=0, objective="neuron"))[0]
    acts = activations(embedded_model, neuron)[..., channel]
    assert acts[:, 7, 7].min() > dataset_activations[:, 7, 7, channel].max()  # Lucid's centre: 14 // 2
    assert (acts[:, 7, 7] > 2 * acts.mean(axis=(1, 2))).all()


def test_same_seed_same_images_other_seed_other_images(embedded_model):
    first = render(embedded_model, LAYER, [5], RenderConfig(steps=32, seed=7))
    again = render(embedded_model, LAYER, [5], RenderConfig(steps=32, seed=7))
    other = render(embedded_model, LAYER, [5], RenderConfig(steps=32, seed=8))
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).mean() > 0.05


def test_the_engines_run_the_same_optimization(embedded_model, dataset_activations, most_important):
    # Without a diversity term (and no LRN in the embedded model) the engines do the same arithmetic.
    dataset_best = dataset_activations[..., most_important].mean(axis=(1, 2)).max()
    lucid = render(embedded_model, LAYER, [most_important],
                   RenderConfig(steps=64, seed=0, objective="channel", engine="render_vis"))
    fast = render(embedded_model, LAYER, [most_important],
                  RenderConfig(steps=64, seed=0, objective="channel", engine="fast"))
    np.testing.assert_array_equal(lucid, fast)
    assert activations(embedded_model, fast[0])[..., most_important].mean(axis=(1, 2)).min() > 3 * dataset_best


def test_the_fast_engine_rounds_the_diversity_term_otherwise_and_each_engine_is_reproducible(embedded_model):
    lucid = render(embedded_model, LAYER, [5], RenderConfig(steps=16, seed=7, engine="render_vis"))
    again = render(embedded_model, LAYER, [5], RenderConfig(steps=16, seed=7, engine="render_vis"))
    fast = render(embedded_model, LAYER, [5], RenderConfig(steps=16, seed=7, engine="fast"))
    fast_again = render(embedded_model, LAYER, [5], RenderConfig(steps=16, seed=7, engine="fast"))
    np.testing.assert_array_equal(lucid, again)
    np.testing.assert_array_equal(fast, fast_again)
    assert 0 < np.abs(lucid - fast).mean() < 0.01


def test_channels_sharing_a_call_each_follow_their_own_objective(embedded_model):
    a, b = 83, 5
    images = render(embedded_model, LAYER, [a, b], RenderConfig(steps=64, seed=0, objective="channel"))
    acts = activations(embedded_model, images.reshape(8, 28, 28, 3)).mean(axis=(1, 2))
    assert acts[:4, a].min() > acts[4:, a].max()
    assert acts[4:, b].min() > acts[:4, b].max()


@pytest.mark.slow
def test_inceptionv1_mixed5a_render_at_224_beats_the_imagenet_sample(inceptionv1_path, imagenet_sample, tmp_path):
    from inception_tools.data import load_dataset
    from inception_tools.models import load_model

    model = load_model("InceptionV1", inceptionv1_path, layers=["mixed5a"])
    channel = 10
    reader = LayerReader(model, "mixed5a")
    dataset = load_dataset(imagenet_sample, model, limit=200)
    dataset_best = max(reader(images)[..., channel].mean(axis=(1, 2)).max() for _, images in dataset.batches(32))
    images = render(model, "mixed5a", [channel], RenderConfig(steps=64, seed=0))[0]
    reached = reader(images)[..., channel].mean(axis=(1, 2))
    reader.close()
    assert images.shape == (4, 224, 224, 3)
    assert reached.max() > 2 * dataset_best


@pytest.mark.parametrize("groups, message", [
    ("order,feature_ind,group\n1\n", "line 2: feature_ind '' is not an integer"),  # before: TypeError traceback
    ("order,feature_ind,group\n1,500,top\n", "channel 500 out of range"),
    ("order,feature_ind,group,group\n1,5,top,middle\n", "names column 'group' more than once"),
])
def test_visualize_groups_file_problems_are_one_line(tmp_path, capsys, groups, message):
    from inception_tools.cli import main

    (tmp_path / "groups.csv").write_text(groups)
    assert main(["visualize", "--groups", str(tmp_path / "groups.csv"), "--steps", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert sorted(os.listdir(tmp_path)) == ["groups.csv"]
