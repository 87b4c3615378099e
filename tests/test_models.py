"""Loading and checking model files; the model-zoo download against a local HTTP server."""

import os
import shutil

import pytest
from static_server import StaticServer

from inception_tools.errors import UserError
from inception_tools.models import load_model


def test_local_inceptionv1_without_aux_heads_loads_for_mixed5a(inceptionv1_path):
    model = load_model("InceptionV1", inceptionv1_path, layers=["mixed5a", "mixed5a_pre_relu"])
    assert model.depth("mixed5a") == 832
    assert model.num_classes == 1008
    assert model.label_ids[0] == "dummy" and model.label_ids[1] == "n02119789"
    assert model.label_ids[1001] == "unused-1001"
    assert "nn0" not in model.layer_depths and "softmax0" not in model.layer_depths
    assert model.value_range == (-117, 138) and model.default_top_k == 10


def test_path_from_environment(inceptionv1_path, monkeypatch):
    monkeypatch.setenv("INCEPTION_TOOLS_INCEPTIONV1", inceptionv1_path)
    assert load_model("InceptionV1").path == inceptionv1_path


def test_embedded_model_offers_pre_relu_of_mixed_layers(embedded_model):
    import tensorflow as tf

    assert embedded_model.default_top_k == 1 and embedded_model.num_classes == 10
    with tf.Graph().as_default():
        _, T = embedded_model.import_graph()
        for layer in embedded_model.layer_depths:
            if layer.startswith("mixed"):
                assert T(layer + "_pre_relu").shape[-1] == embedded_model.depth(layer)


@pytest.mark.parametrize("layer", ["mixed9z", "nn0", "softmax1"])
def test_unknown_or_absent_layer_is_a_user_error(inceptionv1_path, layer):
    with pytest.raises(UserError, match=layer):
        load_model("InceptionV1", inceptionv1_path, layers=[layer])


def test_channel_out_of_range(embedded_model):
    layer = "mixed4a"
    depth = embedded_model.depth(layer)
    embedded_model.check_channels(layer, [0, depth - 1])
    with pytest.raises(UserError, match=f"channel {depth} out of range"):
        embedded_model.check_channels(layer, [depth])


def test_missing_truncated_and_wrong_files(tmp_path, inceptionv1_path):
    with pytest.raises(UserError, match="not found"):
        load_model("InceptionV1", tmp_path / "nope.pb")
    truncated = tmp_path / "truncated.pb"
    truncated.write_bytes(open(inceptionv1_path, "rb").read()[: 10_000_000])
    with pytest.raises(UserError, match="truncated or wrong"):
        load_model("InceptionV1", truncated, layers=["mixed5a"])
    html = tmp_path / "page.pb"
    html.write_text("<html><body>404 Not Found</body></html>")
    with pytest.raises(UserError):
        load_model("InceptionV1", html)
    embedded_file = load_model("embedded").path
    with pytest.raises(UserError, match="lacks nodes"):
        load_model("InceptionV1", embedded_file, layers=["mixed5a"])


def test_unknown_model_name():
    with pytest.raises(UserError, match="unknown model"):
        load_model("ResNet9000")


@pytest.fixture
def zoo(tmp_path, standin_dir, monkeypatch):
    root = tmp_path / "zoo"
    (root / "modelzoo/vision/other_models").mkdir(parents=True)
    (root / "modelzoo/labels").mkdir(parents=True)
    shutil.copy(standin_dir / "InceptionV1.pb", root / "modelzoo/vision/other_models/InceptionV1.pb")
    shutil.copy(standin_dir / "synsets.txt", root / "modelzoo/labels/ImageNet_alternate_synsets.txt")
    server = StaticServer(root)
    monkeypatch.setenv("INCEPTION_TOOLS_ZOO_URL", server.url)
    yield root, server
    server.stop()


def test_download_once_then_offline(zoo, monkeypatch):
    root, server = zoo
    model = load_model("InceptionV1", layers=["mixed5a"])
    assert model.path.startswith(os.environ["INCEPTION_TOOLS_CACHE"])
    assert model.label_ids[1] == "n00000001"
    assert sorted(server.requests) == ["/modelzoo/labels/ImageNet_alternate_synsets.txt",
                                       "/modelzoo/vision/other_models/InceptionV1.pb"]
    server.stop()
    again = load_model("InceptionV1", layers=["mixed5a"])
    assert again.path == model.path and len(server.requests) == 2


def test_truncated_download_is_refused_and_not_cached(zoo):
    root, _ = zoo
    pb = root / "modelzoo/vision/other_models/InceptionV1.pb"
    pb.write_bytes(pb.read_bytes()[:5_000_000])
    with pytest.raises(UserError):
        load_model("InceptionV1", layers=["mixed5a"])
    cache = os.environ["INCEPTION_TOOLS_CACHE"]
    assert not any(name.endswith(".pb") for _, _, files in os.walk(cache) for name in files)


def test_unreachable_zoo_says_so_in_one_line():
    with pytest.raises(UserError, match="cannot download .*local copy"):
        load_model("InceptionV1")


def test_another_networks_file_with_matching_node_names_is_one_line(standin_dir):
    # Before: a 62-line TensorFlow traceback when the graph was first imported.
    with pytest.raises(UserError, match="does not fit a 28x28x3 input|channels where the model declares"):
        load_model("embedded", str(standin_dir / "InceptionV1.pb"))


def test_layer_depths_are_checked_against_the_graph(tmp_path, monkeypatch):
    from inception_tools.models import embedded

    layers = embedded.lucid_layer_dicts(embedded.EMBEDDED)
    wrong = [dict(d, depth=d["depth"] + 1) if d["name"] == "mixed4a" else d for d in layers]
    monkeypatch.setattr(embedded.EmbeddedInception, "layers",
                        embedded._layers_from_list_of_dicts(embedded.EmbeddedInception(), wrong))
    with pytest.raises(UserError, match="layer mixed4a has 80 channels where the model declares 81"):
        load_model("embedded")


def test_the_embedded_model_ships_inside_the_package():
    # Before: data/embedded/ at the repository root, which a non-editable install lacks.
    import inception_tools
    from inception_tools.models import embedded

    package = os.path.dirname(os.path.abspath(inception_tools.__file__))
    for path in (embedded.MODEL_PATH, embedded.LABELS_PATH, embedded.METRICS_PATH):
        assert os.path.commonpath([package, str(path)]) == package and os.path.isfile(path)


@pytest.mark.slow
def test_a_built_wheel_holds_the_embedded_model(tmp_path):
    import subprocess
    import sys
    import zipfile

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), root], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("inception_tools-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("embedded.pb", "labels.txt", "metrics.json"):
        assert f"inception_tools/models/data/embedded/{name}" in names
    # Every web asset and bundled model file, and no compiled leftovers (namespace packages would take them).
    package = os.path.join(root, "inception_tools")
    data = {os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
            for folder in ("web", os.path.join("models", "data"))
            for d, _, files in os.walk(os.path.join(package, folder)) for f in files if "__pycache__" not in d}
    assert data and data <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
