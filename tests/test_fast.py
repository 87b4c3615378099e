"""The fast engine gives the reference engine's per-image outcomes."""

import numpy as np
import pytest

from inception_tools.data import load_dataset
from inception_tools.importance.fast import FeedSuffix, RankOneSuffix, plan_groups, suffix_for
from inception_tools.importance.frontier import find_frontier
from inception_tools.importance.outcomes import channel_means
from inception_tools.importance.run import engine_for, new_store
from inception_tools.importance.store import PENDING
from inception_tools.surgery import Network


def _outcomes(method, net, dataset, channels, values, top_k, batch_size, folder, **options):
    """Fill a fresh store in ``folder`` with ``method``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    store, _ = new_store(str(folder), net, dataset, top_k, batch_size)
    engine_for(method, net, dataset, values, top_k, batch_size, **options).fill(store, channels, 0, len(dataset))
    return store


def _assert_same_outcomes(net, dataset, channels, values, top_k, batch_size, tmp_path, **fast_options):
    reference = _outcomes("reference", net, dataset, channels, values, top_k, batch_size, tmp_path / "ref")
    fast = _outcomes("fast", net, dataset, channels, values, top_k, batch_size, tmp_path / "fast", **fast_options)
    rows = [fast.row_of[c] for c in channels]
    assert not (fast.field("outcome")[rows] == PENDING).any()
    images = dataset.images(0, len(dataset))
    for channel, row in zip(channels, rows):
        for field in ("delta_logprob", "kl", "l1"):
            np.testing.assert_allclose(fast.field(field)[row], reference.field(field)[row], rtol=0, atol=1e-5)
        correct, fast_correct = reference.correct[row], fast.correct[row]
        for i in np.flatnonzero(correct != fast_correct):
            # Only a float-level tie at the top-k boundary may differ: show that it is one.
            logits = net.imputed_logits(images[i:i + 1], [channel], values[channel])[0]
            true = logits[dataset.labels[i]]
            kth = np.sort(logits)[::-1][top_k - 1]
            assert abs(true - kth) < 1e-4, f"channel {channel}, image {i}: not a tie"


@pytest.fixture(scope="module")
def digits(embedded_model):
    return load_dataset("embedded", embedded_model, limit=200)


@pytest.mark.parametrize("shortcut", [True, False])
def test_embedded_every_channel_same_as_reference(embedded_model, digits, tmp_path, shortcut):
    layer = "mixed4a"
    net = Network(embedded_model, layer)
    values = channel_means(net, digits, 100)
    channels = list(range(embedded_model.depth(layer)))
    _assert_same_outcomes(net, digits, channels, values, 1, 64, tmp_path, shortcut=shortcut)


def test_embedded_earlier_layer_and_zero_ablation(embedded_model, digits, tmp_path):
    net = Network(embedded_model, "mixed3a")
    values = np.zeros(embedded_model.depth("mixed3a"))
    _assert_same_outcomes(net, digits, list(range(0, embedded_model.depth("mixed3a"), 3)), values, 1, 50, tmp_path)


def _inceptionv1(inceptionv1_path, imagenet_sample, n_images):
    from inception_tools.models import load_model

    model = load_model("InceptionV1", inceptionv1_path, layers=["mixed5a"])
    return model, load_dataset(imagenet_sample, model, limit=n_images)


def test_inceptionv1_mixed5a_same_as_reference(inceptionv1_path, imagenet_sample, tmp_path):
    model, dataset = _inceptionv1(inceptionv1_path, imagenet_sample, 16)
    net = Network(model, "mixed5a")
    values = channel_means(net, dataset, 16)
    _assert_same_outcomes(net, dataset, list(range(8)), values, 10, 16, tmp_path)


@pytest.mark.slow
def test_inceptionv1_mixed5a_32_channels_64_images(inceptionv1_path, imagenet_sample, tmp_path):
    model, dataset = _inceptionv1(inceptionv1_path, imagenet_sample, 64)
    net = Network(model, "mixed5a")
    values = channel_means(net, dataset, 32)
    _assert_same_outcomes(net, dataset, list(range(32)), values, 10, 32, tmp_path)


def test_every_mixed_layer_of_inceptionv1_has_a_linear_frontier(standin_dir):
    from inception_tools.models import load_model

    model = load_model("InceptionV1", str(standin_dir / "InceptionV1.pb"))
    for layer in [name for name in model.layer_depths if name.startswith("mixed")]:
        net = Network(model, layer)
        branches = find_frontier(net.imputed, net.logits)
        assert branches, layer
        expected = 1 if layer == "mixed5b" else 4
        assert len(branches) == expected, layer


def test_interrupted_fill_resumes_at_the_first_unfinished_batch(embedded_model, digits, tmp_path, monkeypatch):
    net = Network(embedded_model, "mixed4a")
    values = channel_means(net, digits, 100)
    channels = list(range(6))
    whole = _outcomes("fast", net, digits, channels, values, 1, 50, tmp_path / "a")

    class Interrupted(Exception):
        pass

    batches = []
    prefix = RankOneSuffix.prefix

    def counting_prefix(self, images, stop_at=None):
        batches.append(len(images))
        if len(batches) == stop_at:
            raise Interrupted
        return prefix(self, images)

    monkeypatch.setattr(RankOneSuffix, "prefix", lambda self, images: counting_prefix(self, images, stop_at=3))
    with pytest.raises(Interrupted):
        _outcomes("fast", net, digits, channels, values, 1, 50, tmp_path / "b")
    batches.clear()
    monkeypatch.setattr(RankOneSuffix, "prefix", counting_prefix)
    resumed = _outcomes("fast", net, digits, channels, values, 1, 50, tmp_path / "b")
    assert batches == [50, 50]  # batches 3 and 4 of 4: the first two were stored
    assert (whole.records[:6] == resumed.records[:6]).all()
    assert (resumed.field("outcome")[6:] == PENDING).all()  # channels not asked for stay pending


def test_plan_groups_fits_memory():
    assert plan_groups(832, 32, bytes_per_variant_image=1 << 20, memory=64 << 20) == 1
    assert plan_groups(832, 32, bytes_per_variant_image=1 << 10, memory=64 << 30) == 4
    assert plan_groups(3, 32, bytes_per_variant_image=1, memory=1 << 40) == 3


def test_model_without_a_pre_softmax_node_uses_log_softmax(embedded_model, digits, tmp_path):
    """The variant graph finds the output by name even when the logits are log(softmax)."""
    graph_def = type(embedded_model.graph_def)()
    graph_def.CopyFrom(embedded_model.graph_def)
    renamed = embedded_model.logits_name() + "_renamed"
    for node in graph_def.node:
        if node.name == embedded_model.logits_name():
            node.name = renamed
        node.input[:] = [renamed if i == embedded_model.logits_name() else i for i in node.input]
    probs = graph_def.node.add()  # the output read through an Identity: no Softmax op whose input is the logits
    probs.name, probs.op = "probs", "Identity"
    probs.input.append(embedded_model.output_name)
    probs.attr["T"].type = 1  # float32
    model = embedded_model.with_graph_def(graph_def)
    model.output_name = "probs"
    assert model.logits_name() is None
    net = Network(model, "mixed4a")
    values = channel_means(net, digits, 100)
    _assert_same_outcomes(net, digits, list(range(0, 80, 9)), values, 1, 100, tmp_path)


def test_strategy_follows_the_frontier(embedded_model):
    net = Network(embedded_model, "mixed4a")
    assert isinstance(suffix_for(net), RankOneSuffix)
    assert isinstance(suffix_for(net, shortcut=False), FeedSuffix)
