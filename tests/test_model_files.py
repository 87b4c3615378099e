"""Your own models: Keras files, SavedModel folders and frozen .pb files with model cards."""

import json
import os

import numpy as np
import pytest

from inception_tools.cli import main
from inception_tools.errors import UserError
from inception_tools.importance.fast import FeedSuffix, RankOneSuffix, suffix_for
from inception_tools.importance.outcomes import channel_means
from inception_tools.importance.run import engine_for, new_store
from inception_tools.models import catalog, convert, load_model
from inception_tools.surgery import Network


def residual_cnn():
    """28x28x3 -> conv_a (3x3) -> two 1x1 convs -> add -> depthwise -> add2 -> softmax over 10 digits.

    ``conv_a`` feeds only 1x1 convolutions (rank-one shortcut); ``add`` feeds a
    depthwise convolution and an add (fed whole); ``dw`` feeds an add.
    """
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((28, 28, 3), name="image")
    a = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_a")(inp)
    c1 = keras.layers.Conv2D(8, 1, activation="relu", name="c1")(a)
    c2 = keras.layers.Conv2D(8, 1, name="c2")(a)
    add = keras.layers.Add(name="add")([c1, c2])
    dw = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dw")(add)
    add2 = keras.layers.Add(name="add2")([add, dw])
    pooled = keras.layers.GlobalAveragePooling2D(name="gap")(add2)
    out = keras.layers.Dense(10, activation="softmax", name="probs")(pooled)
    return keras.Model(inp, out)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The CNN as .keras, .h5 and a SavedModel folder, and a shared conversion cache."""
    folder = tmp_path_factory.mktemp("own")
    model = residual_cnn()
    model.save(folder / "cnn.keras")
    model.save(folder / "cnn.h5")
    model.export(str(folder / "cnn_saved"), verbose=False)
    images = np.random.default_rng(0).random((6, 28, 28, 3)).astype(np.float32)
    return {"dir": folder, "cache": tmp_path_factory.mktemp("cache"), "images": images,
            "probs": np.asarray(model(images))}


@pytest.fixture
def cache(files, monkeypatch):
    monkeypatch.setenv("INCEPTION_TOOLS_CACHE", str(files["cache"]))
    return files["cache"]


def _probs(model, images):
    net = Network(model, next(iter(model.layer_depths)))
    try:
        return net.run(net.T(model.output_name), images)
    finally:
        net.close()


@pytest.mark.parametrize("name", ["cnn.keras", "cnn.h5", "cnn_saved"])
def test_keras_and_savedmodel_files_load_and_compute_the_same_probabilities(files, cache, name):
    model = load_model(str(files["dir"] / name))
    assert model.value_range == (0, 1) and model.num_classes == 10  # the guessed range: images go in unchanged
    assert model.label_names == [str(i) for i in range(10)]  # no labels file: classes named by index
    np.testing.assert_allclose(_probs(model, files["images"]), files["probs"], atol=1e-5)
    assert model.logits_name() is not None


def test_keras_layer_names_are_layers_with_pre_relu_tensors(files, cache):
    model = load_model(str(files["dir"] / "cnn.keras"), layers=["conv_a", "add", "dw"])
    assert {"conv_a": 8, "c1": 8, "c2": 8, "add": 8, "dw": 8, "add2": 8, "probs": 10}.items() <= \
        model.layer_depths.items()
    assert model.entry.default_layer == "dw" and model.output_name == "probs"
    assert model.logits_name() == "probs_pre_activation"
    nodes = {node.name: node for node in model.graph_def.node}
    assert nodes["conv_a"].op == "Relu" and nodes["conv_a_pre_relu"].op == "BiasAdd"
    assert nodes["add_pre_relu"].op == "Identity" and nodes["add_pre_relu"].input == ["add"]


def test_frozen_once_keyed_by_the_file_hash(files, cache):
    path = str(files["dir"] / "cnn.keras")
    pb, _ = convert.freeze(path)
    assert os.path.basename(pb) == convert.file_hash(path) + ".pb"
    stamp = os.stat(pb).st_mtime_ns
    again, card = convert.freeze(path)
    assert again == pb and os.stat(pb).st_mtime_ns == stamp
    assert set(card.guessed) == {"value_range", "channel_order"}


def _store(method, net, dataset, channels, values, folder, **options):
    folder.mkdir(parents=True)
    store, _ = new_store(str(folder), net, dataset, 1, 8)
    engine_for(method, net, dataset, values, 1, 8, **options).fill(store, channels, 0, len(dataset))
    return store


@pytest.mark.parametrize("layer, shortcut", [("conv_a", True), ("add", False), ("dw", False)])
def test_fast_engine_exact_on_residual_and_depthwise_layers(files, cache, tmp_path, layer, shortcut):
    from inception_tools.data import load_dataset

    model = load_model(str(files["dir"] / "cnn.keras"))
    dataset = load_dataset("embedded", model, limit=16)
    net = Network(model, layer)
    assert net.verify(dataset.images(0, 4)) < 1e-4  # every consumer, the adds included, reads the imputation
    assert isinstance(suffix_for(net), RankOneSuffix if shortcut else FeedSuffix)
    values = channel_means(net, dataset, 8)
    channels = list(range(8))
    ref = _store("reference", net, dataset, channels, values, tmp_path / "ref")
    fast = _store("fast", net, dataset, channels, values, tmp_path / "fast")
    for field in ("delta_logprob", "kl", "l1"):
        np.testing.assert_allclose(fast.field(field)[:8], ref.field(field)[:8], atol=1e-5)
    assert (fast.field("outcome")[:8] == ref.field("outcome")[:8]).all()


def test_verify_refuses_a_splice_that_misses_an_add(files, cache, monkeypatch):
    import inception_tools.surgery as surgery

    model = load_model(str(files["dir"] / "cnn.keras"))
    plain = surgery.splice_identity

    def splice_but_leave_add2(graph_def, layer, suffix="_imputed"):
        spliced = plain(graph_def, layer, suffix)
        for node in spliced.node:
            if node.name == "add2":  # the Keras layer's Add node, renamed to its layer name
                node.input[:] = [layer if i == layer + suffix else i for i in node.input]
        return spliced

    monkeypatch.setattr(surgery, "splice_identity", splice_but_leave_add2)
    net = Network(model, "add")
    with pytest.raises(UserError, match=r"bypassed \(.*add2.* still read"):
        net.verify(np.random.default_rng(0).random((2, 28, 28, 3)).astype(np.float32))


def test_render_and_examples_on_a_keras_layer(files, cache):
    import inception_tools as it

    model = load_model(str(files["dir"] / "cnn.keras"))
    images = it.render(model, "add", 3, steps=4, size=28)
    assert images.shape[1:] == (28, 28, 3) and np.isfinite(images).all()
    dataset = it.load_dataset("embedded", model, limit=12)
    top = it.examples(model, "dw", dataset, channels=[2], k=2)
    assert len(top) == 1


def test_frozen_pb_with_a_written_card_and_logits_output(files, cache, tmp_path):
    import shutil

    pb, card = convert.freeze(str(files["dir"] / "cnn.keras"))
    own = tmp_path / "own.pb"
    shutil.copy(pb, own)
    with pytest.raises(UserError, match="no model card"):
        catalog.entry(str(own))
    assert main(["models", "--write-card", str(own)]) == 0
    data = json.loads((tmp_path / "own.pb.card.json").read_text())
    assert data["output_name"] == "probs" and data["guessed"] == ["value_range", "channel_order"]
    (tmp_path / "labels.txt").write_text("".join(f"d{i} digit {i}\n" for i in range(10)))
    data.update(output_name="probs_pre_activation", output="logits", labels="labels.txt", default_top_k=2)
    (tmp_path / "logits.json").write_text(json.dumps(data))
    model = load_model(str(own), card=str(tmp_path / "logits.json"))
    assert model.logits_name() == "probs_pre_activation" and model.output_name == "probs_pre_activation_softmax"
    assert model.label_ids[3] == "d3" and model.label_names[3] == "digit 3" and model.default_top_k == 2
    np.testing.assert_allclose(_probs(model, files["images"]), files["probs"], atol=1e-5)


def _one_line_error(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and [line for line in err.splitlines() if line.startswith("error: ")] == \
        err.splitlines()[-1:]  # one error line, last (a note on freezing a Keras file may come before it)
    return err.splitlines()[-1]


def test_one_line_errors(files, cache, tmp_path, capsys):
    import keras

    pb, card = convert.freeze(str(files["dir"] / "cnn.keras"))
    bad = json.loads(json.dumps(card.to_json(str(tmp_path))))
    bad["layers"].append({"name": "block9/add", "depth": 8})
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    err = _one_line_error(capsys, ["importance", "--model", pb, "--card", str(tmp_path / "bad.json"),
                                   "--layer", "add", "--out", str(tmp_path / "o1")])
    assert "names layer node 'block9/add'" in err
    big = dict(bad, layers=bad["layers"][:-1], image_shape=[32, 32, 3])
    (tmp_path / "big.json").write_text(json.dumps(big))
    err = _one_line_error(capsys, ["importance", "--model", pb, "--card", str(tmp_path / "big.json"),
                                   "--layer", "add", "--out", str(tmp_path / "o2")])
    assert "image size 32x32x3 does not match" in err and "28x28x3" in err
    inp = keras.Input((8, 8, 3))
    keras.Model(inp, keras.layers.Conv2D(3, 1)(inp)).save(tmp_path / "autoencoder.keras")
    err = _one_line_error(capsys, ["importance", "--model", str(tmp_path / "autoencoder.keras"),
                                   "--out", str(tmp_path / "o3")])
    assert "is not an image classifier" in err
    err = _one_line_error(capsys, ["importance", "--model", "ResnetV2_5O_slim", "--out", str(tmp_path / "o4")])
    assert "did you mean ResnetV2_50_slim" in err
    assert not any((tmp_path / f"o{i}").exists() for i in range(1, 5))


def test_cli_importance_on_a_keras_file_with_index_named_class_folders(files, cache, tmp_path, capsys):
    from PIL import Image

    data = tmp_path / "digits"
    rng = np.random.default_rng(0)
    for i in range(6):
        (data / str(i % 3)).mkdir(parents=True, exist_ok=True)  # class folders named by output index
        Image.fromarray((rng.random((28, 28, 3)) * 255).astype(np.uint8)).save(data / str(i % 3) / f"{i}.png")
    out = tmp_path / "importance.csv"
    assert main(["importance", "--model", str(files["dir"] / "cnn.keras"), "--layer", "add", "--data", str(data),
                 "--channels", "0-3", "--out", str(out)]) == 0
    csv = out.read_text().splitlines()
    assert len(csv) == 5 and ",add," in csv[1]


def test_models_command_lists_the_zoo_and_a_files_layers(files, cache, capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert rows["ResnetV2_50_slim"][1] == "22" and rows["ResnetV2_50_slim"][2].endswith("block4/unit_3/bottleneck_v2/add")
    assert "BGR" in rows["VGG16_caffe"] and rows["Clip_ResNet50_4x"][-1] == "classifier"
    assert rows["embedded"][-1].endswith("embedded.pb")
    assert main(["models", "--list-layers", str(files["dir"] / "cnn.keras")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "conv_a  8  conv" in lines and "add  8  add" in lines and "dw  8  conv  (default)" in lines
    assert main(["models", "--list-layers", str(files["dir"] / "cnn_saved")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.endswith("add_1/Add  8  add") for line in lines)


@pytest.mark.parametrize("change, message", [
    ({"output_name": None}, "lacks the key 'output_name'"),
    ({"output": "scores"}, "output must be one of probabilities, logits"),
    ({"image_shape": [28, 28]}, "image_shape must be [height, width, 3]"),
    ({"value_range": [0]}, "value_range must be [low, high]"),
    ({"channel_order": "GBR"}, "channel_order must be RGB or BGR"),
    ({"default_layer": "conv9"}, "default_layer 'conv9' is not one of its layers"),
    ({"labels": "missing.txt"}, "names a labels file that does not exist"),
])
def test_malformed_cards_are_refused_in_one_line(tmp_path, change, message):
    from inception_tools.models.card import read_card

    data = {"input_name": "input", "image_shape": [28, 28, 3], "value_range": [0, 1], "output_name": "probs",
            "layers": [{"name": "conv1", "depth": 8}, {"name": "probs", "depth": 10, "kind": "dense"}]}
    data.update(change)
    data = {key: value for key, value in data.items() if value is not None}
    (tmp_path / "m.card.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("(", r"\(")) as error:
        read_card(tmp_path / "m.card.json")
    assert "\n" not in str(error.value)


def test_a_card_that_is_not_json_is_refused(tmp_path):
    from inception_tools.models.card import read_card

    (tmp_path / "m.card.json").write_text("{not json")
    with pytest.raises(UserError, match="is not valid JSON"):
        read_card(tmp_path / "m.card.json")


def test_basis_classes_and_blocks_on_keras_layers(files, cache, tmp_path):
    import inception_tools as it
    from PIL import Image

    model = load_model(str(files["dir"] / "cnn.keras"))
    dataset = it.load_dataset("embedded", model, limit=40)
    study = it.basis(model, "add", dataset, components=4, ablation_images=8, ks=(1, 4), ablation_batch=4)
    assert study.bases["pca"] is not None and "\"pre_relu\"" in json.dumps(study.summary)  # <add>_pre_relu sampled
    found = it.classes(model, dataset, ["conv_a", "add2"], threshold=0.0, replicates=0)
    assert set(found.summary["layers"]) == {"conv_a", "add2"} and found.mean["add2"].shape[0] == len(found.classes)
    Image.fromarray((files["images"][0] * 255).astype(np.uint8)).save(tmp_path / "digit.png")
    blocks = it.blocks(model, str(tmp_path / "digit.png"), layers=["conv_a"], n_classes=1, n_groups=2)
    assert blocks is not None


def test_a_card_goes_with_a_model_file_and_names_stay_names(tmp_path, monkeypatch):
    with pytest.raises(UserError, match="describes a model file, not the named model 'embedded'"):
        catalog.entry("embedded", card=str(tmp_path / "x.card.json"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "embedded").mkdir()  # a folder named like a catalog model does not shadow it
    assert catalog.entry("embedded") is catalog.ENTRIES["embedded"]
    with pytest.raises(UserError, match="model file not found: .*nothere.keras"):
        catalog.entry(str(tmp_path / "nothere.keras"))


def test_a_layer_inside_a_residual_connection(files, cache, tmp_path):
    """``dw`` is read by ``add2`` beside ``add``: importance along directions and the basis ablation feed
    the connection's tensor too; Building Blocks, which feeds the layer alone, refuses it in one line."""
    import inception_tools as it
    from PIL import Image

    model = load_model(str(files["dir"] / "cnn.keras"))
    net = Network(model, "dw")
    assert [t.name for t in net.side_tensors()] == ["import/add:0"]
    dataset = it.load_dataset("embedded", model, limit=16)
    study = it.basis(model, "dw", dataset, components=4, ablation_images=8, ks=(1, 4), ablation_batch=4)
    assert study.bases["pca"] is not None
    table = it.importance(model, "dw", dataset, basis="pca", components=3)
    assert len(table.rows) == 3
    Image.fromarray((files["images"][0] * 255).astype(np.uint8)).save(tmp_path / "digit.png")
    with pytest.raises(UserError, match="a connection goes around it"):
        it.blocks(model, str(tmp_path / "digit.png"), layers=["dw"])
