"""Lucid's zoo by name, offline: random-weight slim stand-ins served from 127.0.0.1, downloaded, cached, studied."""

import os

import numpy as np
import pytest
from static_server import StaticServer

import slim_standins

import inception_tools as it
from inception_tools.importance.fast import FeedSuffix, RankOneSuffix, suffix_for
from inception_tools.importance.outcomes import channel_means
from inception_tools.importance.run import engine_for, new_store
from inception_tools.models import load_model
from inception_tools.surgery import Network


@pytest.fixture(scope="module")
def zoo_root(tmp_path_factory):
    """A zoo folder; ``build(name)`` writes a family's stand-in into it once."""
    root = tmp_path_factory.mktemp("zoo")
    built = {}

    def build(name):
        if name not in built:
            built[name] = slim_standins.write_standin(str(root), name)
        return built[name]

    return root, build


@pytest.fixture
def server(zoo_root, monkeypatch):
    server = StaticServer(zoo_root[0])
    monkeypatch.setenv("INCEPTION_TOOLS_ZOO_URL", server.url)
    yield server
    server.stop()


@pytest.fixture
def miniature_zoo(tmp_path, monkeypatch):
    """A zoo of one miniature InceptionV1_slim (its declared input, default layer and output only)."""
    slim_standins.write_standin(str(tmp_path / "zoo"), "InceptionV1_slim", miniature=True)
    server = StaticServer(tmp_path / "zoo")
    monkeypatch.setenv("INCEPTION_TOOLS_ZOO_URL", server.url)
    yield server
    server.stop()


def test_zoo_name_downloads_from_the_local_server_once_then_offline(miniature_zoo):
    server = miniature_zoo
    model = load_model("InceptionV1_slim", layers=["InceptionV1/InceptionV1/Mixed_5b/concat"])
    assert model.path == os.path.join(os.environ["INCEPTION_TOOLS_CACHE"], "modelzoo/vision/slim_models/InceptionV1.pb")
    assert sorted(server.requests) == ["/modelzoo/labels/ImageNet_standard_with_dummy.txt",
                                       "/modelzoo/labels/ImageNet_standard_with_dummy_synsets.txt",
                                       "/modelzoo/vision/slim_models/InceptionV1.pb"]
    assert model.num_classes == 1001 and model.label_ids[:2] == ["dummy", "n00000000"]
    assert model.label_names[1] == "class 0" and model.value_range == (-1, 1)
    assert model.logits_name() == "logits"  # the input of the Softmax output op
    assert model.entry.default_layer == "InceptionV1/InceptionV1/Mixed_5b/concat"
    server.stop()
    again = load_model("InceptionV1_slim")
    assert again.path == model.path and len(server.requests) == 3


def _photos(folder, model, n=3):
    """``n`` random photos named by real label ids of ``model`` (flat layout)."""
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(0)
    ids = [label_id for label_id in model.label_ids if label_id.startswith("n")][:n]
    for i, label_id in enumerate(ids):
        Image.fromarray((rng.random((256, 256, 3)) * 255).astype(np.uint8)).save(folder / f"{label_id}_{i}.png")
    return str(folder)


def _store(method, net, dataset, channels, values, top_k, folder):
    folder.mkdir()
    store, _ = new_store(str(folder), net, dataset, top_k, 4)
    engine_for(method, net, dataset, values, top_k, 4).fill(store, channels, 0, len(dataset))
    return store


@pytest.mark.slow
@pytest.mark.parametrize("name", list(slim_standins.FAMILIES))
def test_every_slim_family_by_zoo_name(zoo_root, server, tmp_path, name):
    """Download by name, then importance (reference == fast), verify, examples, a render, basis and blocks."""
    zoo_root[1](name)
    model = load_model(name)
    layer = model.entry.default_layer
    photos = _photos(tmp_path / "photos", model)
    dataset = it.load_dataset(photos, model)
    net = Network(model, layer)
    assert net.verify(dataset.images(0, 2)) < 1e-3
    values = channel_means(net, dataset, 4)
    channels = [0, 1, model.depth(layer) - 1]
    ref = _store("reference", net, dataset, channels, values, model.default_top_k, tmp_path / "ref")
    fast = _store("fast", net, dataset, channels, values, model.default_top_k, tmp_path / "fast")
    # float32 round-off grows with the logits, large in random-weight nets: tolerance relative to them
    scale = max(1.0, float(np.abs(net.unablated_logits(dataset.images(0, len(dataset)))).max()))
    np.testing.assert_allclose(fast.field("delta_logprob")[:3], ref.field("delta_logprob")[:3], atol=1e-5 * scale)
    assert (fast.field("outcome")[:3] == ref.field("outcome")[:3]).all()
    top = it.examples(model, layer, dataset, channels=[0], k=1)
    assert len(top) == 1
    images = it.render(model, layer, 0, steps=2)
    assert images.shape[1:3] == model.image_shape[:2] and np.isfinite(images).all()
    study = it.basis(model, layer, dataset, components=2, ablation_images=2, ks=(1, 2), ablation_batch=4)
    assert study.bases["pca"] is not None
    last = [n for n in model.layer_depths if n != model.output_name][-1]
    blocks = it.blocks(model, os.path.join(photos, sorted(os.listdir(photos))[0]), layers=[last],
                       n_classes=1, n_groups=2)
    assert blocks is not None


@pytest.mark.slow
def test_rank_one_shortcut_inside_resnet_bottlenecks_and_refused_at_adds(zoo_root, server):
    """ResnetV2's unit_1 preact/Relu feeds the 1x1 conv1 and the 1x1 shortcut: rank-one; an add is fed whole."""
    zoo_root[1]("ResnetV2_50_slim")
    model = load_model("ResnetV2_50_slim")
    preact = Network(model, "resnet_v2_50/block3/unit_1/bottleneck_v2/preact/Relu")
    assert isinstance(suffix_for(preact), RankOneSuffix) and not preact.side_tensors()
    add = Network(model, "resnet_v2_50/block3/unit_2/bottleneck_v2/add")
    assert isinstance(suffix_for(add), FeedSuffix)
