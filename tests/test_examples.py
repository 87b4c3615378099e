"""Dataset examples in one pass, checked against brute force; receptive fields."""

import importlib
import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from inception_tools.errors import UserError
from inception_tools import runner
from inception_tools.examples import (ExamplesConfig, LayerReader, StreamingTopK, crop_box, dataset_examples,
                                     single_pass)
from inception_tools.receptive_field import Field, layer_field

examples = importlib.import_module("inception_tools.examples")  # the module; it.examples is the API function

tf1 = tf.compat.v1

LAYER = "mixed3a"


@pytest.fixture(scope="module")
def digits(embedded_model):
    from inception_tools.data import load_dataset

    return load_dataset("embedded", embedded_model, limit=60)


@pytest.fixture
def counting_reader(monkeypatch):
    """Replace LayerReader with one that counts its calls and the images it sees."""
    seen = {"calls": 0, "images": 0}

    class CountingReader(LayerReader):
        def __call__(self, images):
            seen["calls"] += 1
            seen["images"] += len(images)
            return super().__call__(images)

    monkeypatch.setattr(examples, "LayerReader", CountingReader)
    return seen


def brute_force(acts, k, mode):
    """Per channel, sort every image's score (ties to the lower index): (top, bottom) rows and values."""
    n, h, w, channels = acts.shape
    if mode == "center":
        high = low = acts[:, h // 2, w // 2, :]
    else:
        high, low = acts.max(axis=(1, 2)), acts.min(axis=(1, 2))
    index = np.arange(n)
    result = []
    for c in range(channels):
        top = np.lexsort((index, -high[:, c]))[:k]
        bottom = np.lexsort((index, low[:, c]))[:k]
        result.append((top, high[top, c], bottom, low[bottom, c]))
    return result


@pytest.mark.parametrize("mode", ["center", "max"])
def test_one_pass_matches_brute_force_for_every_channel(embedded_model, digits, counting_reader, tmp_path, mode):
    table = dataset_examples(embedded_model, LAYER, digits, tmp_path, ExamplesConfig(k=8, mode=mode, batch_size=7),
                             channels=[0, 83]).table()
    assert counting_reader == {"calls": 9, "images": 60}  # ceil(60 / 7) model calls in all, for 96 channels

    reader = LayerReader(embedded_model, LAYER)
    acts = reader(digits.images(0, 60))
    reader.close()
    assert sorted(map(int, table)) == list(range(96))
    for c, (top, top_values, bottom, bottom_values) in enumerate(brute_force(acts, 8, mode)):
        entry = table[str(c)]
        assert entry["top"] == [digits.ids[i] for i in top]
        assert entry["bottom"] == [digits.ids[i] for i in bottom]
        np.testing.assert_allclose(entry["top_values"], top_values, rtol=1e-5)
        np.testing.assert_allclose(entry["bottom_values"], bottom_values, rtol=1e-5)
        for row, (y, x), value in zip(entry["top_rows"], entry["top_positions"], entry["top_values"]):
            assert acts[row, y, x, c] == pytest.approx(value, rel=1e-5)


def test_outputs_on_disk_and_rerun_skips_the_pass(embedded_model, digits, counting_reader, tmp_path):
    dataset_examples(embedded_model, LAYER, digits, tmp_path, ExamplesConfig(k=8, batch_size=16), channels=[2, 5])
    folder = tmp_path / "examples" / LAYER
    strip = np.asarray(Image.open(folder / "channel_0002_top.png"))
    assert strip.shape == (28, 8 * 28, 3)
    table = json.loads((folder / "examples.json").read_text())
    first = digits.images(table["2"]["top_rows"][0], table["2"]["top_rows"][0] + 1)[0]
    np.testing.assert_array_equal(strip[:, :28], (first * 255).round())
    assert {p.name for p in folder.glob("*.png")} == {
        f"channel_{c:04d}_{side}.png" for c in (2, 5) for side in ("top", "bottom")}
    assert not (folder / ".partial").exists()
    settings = json.loads((folder / "settings.json").read_text())
    assert settings["stage"] == "examples" and settings["inputs"]["layer"] == LAYER
    assert settings["config"] == {"k": 8, "mode": "center", "batch_size": 16, "pixel_scaling": "once"}

    calls = counting_reader["calls"]
    dataset_examples(embedded_model, LAYER, digits, tmp_path, ExamplesConfig(k=8, batch_size=16), channels=[7])
    assert counting_reader["calls"] == calls
    assert (folder / "channel_0007_bottom.png").is_file()
    with pytest.raises(UserError, match=r"was made with config.k=8 \(now 4\)"):
        dataset_examples(embedded_model, LAYER, digits, tmp_path, ExamplesConfig(k=4))


def test_a_folder_from_before_the_runner_is_adopted_or_refused(embedded_model, digits, counting_reader, tmp_path):
    config = ExamplesConfig(k=4, batch_size=16)
    dataset_examples(embedded_model, LAYER, digits, tmp_path, config, channels=[2])
    folder = tmp_path / "examples" / LAYER
    runner_form = (folder / "settings.json").read_bytes()
    old = dict(model="embedded", layer=LAYER, mode="center", k=4, dataset=digits.source, n_images=len(digits),
               resize=digits.resize, pixel_scaling="once")
    (folder / "settings.json").write_text(json.dumps(dict(old, k=8)))  # the old flat form, other k
    with pytest.raises(UserError, match=r"made by an earlier version with k=8 \(now 4\); delete it"):
        dataset_examples(embedded_model, LAYER, digits, tmp_path, config, channels=[2])
    (folder / "settings.json").write_text(json.dumps(old))
    calls = counting_reader["calls"]
    dataset_examples(embedded_model, LAYER, digits, tmp_path, config, channels=[2, 3])
    assert counting_reader["calls"] == calls  # read back, no pass
    assert (folder / "settings.json").read_bytes() == runner_form and (folder / "channel_0003_top.png").is_file()


def test_interrupted_pass_resumes_from_its_checkpoint(embedded_model, digits, counting_reader, tmp_path,
                                                      monkeypatch):
    monkeypatch.setattr(examples, "CHECKPOINT_EVERY", 2)
    checkpoint = runner.Checkpoint(str(tmp_path))
    real_update = StreamingTopK.update
    updates = {"n": 0}

    def interrupted_update(self, *args):
        updates["n"] += 1
        if updates["n"] > 2 * 5:  # top and bottom are updated once per batch: stop in batch 6
            raise KeyboardInterrupt
        real_update(self, *args)

    monkeypatch.setattr(StreamingTopK, "update", interrupted_update)
    with pytest.raises(KeyboardInterrupt):
        single_pass(embedded_model, LAYER, digits, batch_size=5, checkpoint=checkpoint)
    monkeypatch.setattr(StreamingTopK, "update", real_update)
    counting_reader["calls"] = 0
    top, bottom = single_pass(embedded_model, LAYER, digits, batch_size=5, checkpoint=checkpoint)
    assert counting_reader["calls"] == 8  # batches 5..12 of 12: the checkpoint was after batch 4
    assert (tmp_path / "examples.npz").is_file()
    clean_top, clean_bottom = single_pass(embedded_model, LAYER, digits, batch_size=5)
    np.testing.assert_array_equal(top.rows, clean_top.rows)
    np.testing.assert_array_equal(bottom.values, clean_bottom.values)


def test_streaming_top_k_keeps_the_largest_and_breaks_ties_by_index():
    kept = StreamingTopK(k=2, channels=2)
    no_position = np.zeros((3, 2, 2), np.int64)
    kept.update(np.array([[1.0, 5.0], [3.0, 5.0], [2.0, 0.0]]), np.array([0, 1, 2]), no_position)
    kept.update(np.array([[3.0, 9.0], [0.0, 5.0], [4.0, 1.0]]), np.array([3, 4, 5]), no_position)
    np.testing.assert_array_equal(kept.values, [[4.0, 3.0], [9.0, 5.0]])
    np.testing.assert_array_equal(kept.rows, [[5, 1], [3, 0]])


def test_bad_requests_are_user_errors(embedded_model, digits, tmp_path):
    with pytest.raises(UserError, match="mode"):
        ExamplesConfig(mode="mean")
    with pytest.raises(UserError, match="k and batch size"):
        ExamplesConfig(k=0)
    with pytest.raises(UserError, match="cannot pick 100"):
        dataset_examples(embedded_model, LAYER, digits, tmp_path, ExamplesConfig(k=100))


def build_graph(ops):
    """A frozen single-channel conv/pool chain with positive weights (so no gradient cancels)."""
    with tf.Graph().as_default() as graph:
        x = tf1.placeholder(tf.float32, [1, None, None, 1], name="input")
        for i, (op, kernel, stride, padding) in enumerate(ops):
            if op == "conv":
                x = tf1.nn.conv2d(x, tf.ones([kernel, kernel, 1, 1]), [1, stride, stride, 1], padding, name=f"c{i}")
            else:
                x = tf1.nn.avg_pool(x, [1, kernel, kernel, 1], [1, stride, stride, 1], padding, name=f"c{i}")
            x = tf1.nn.relu(x + 1.0, name=f"r{i}")
    return graph.as_graph_def(), x.op.name


def test_receptive_field_is_the_support_of_the_gradient():
    graph_def, layer = build_graph([("conv", 3, 2, "SAME"), ("pool", 3, 2, "SAME"), ("conv", 4, 1, "VALID"),
                                    ("conv", 2, 1, "SAME")])
    size = 29
    original = graph_def.SerializeToString()
    field = layer_field(graph_def, layer, "input", size)
    assert graph_def.SerializeToString() == original
    assert (field.size, field.jump) == (3 + 2 * 2 + 3 * 4 + 1 * 4, 4)
    with tf.Graph().as_default(), tf1.Session() as sess:
        tf1.import_graph_def(graph_def, name="")
        graph = tf1.get_default_graph()
        t_input, t_layer = graph.get_tensor_by_name("input:0"), graph.get_tensor_by_name(layer + ":0")
        assert t_layer.shape.rank == 4
        n = sess.run(tf.shape(t_layer), {t_input: np.zeros((1, size, size, 1))})[1]
        assert n == field.length
        for y in (0, 2, n - 1):
            gradient = tf1.gradients(t_layer[0, y, y, 0], t_input)[0]
            rows, cols = np.nonzero(sess.run(gradient, {t_input: np.ones((1, size, size, 1))})[0, :, :, 0])
            lo, hi = field.window(y)
            assert (rows.min(), rows.max() + 1) == (cols.min(), cols.max() + 1) == (max(lo, 0), min(hi, size))


def test_inceptionv1_receptive_fields(inceptionv1_path):
    from inception_tools.models.graph import read_graphdef

    graph_def = read_graphdef(inceptionv1_path)
    original = graph_def.SerializeToString()
    assert layer_field(graph_def, "conv2d0_pre_relu", "input", 224) == Field(7, 2, 1.0, 112)
    assert layer_field(graph_def, "mixed3a_pre_relu", "input", 224) == Field(59, 8, 7.0, 28)
    assert layer_field(graph_def, "mixed5a_pre_relu", "input", 224) == Field(587, 32, 31.0, 7)
    assert graph_def.SerializeToString() == original


def test_crop_box_is_the_field_shifted_inside_the_image():
    field = Field(size=11, jump=4, start=1.0, length=7)
    assert crop_box(field, field, 3, 3, 28, 28) == (8, 8, 19, 19)
    assert crop_box(field, field, 0, 6, 28, 28) == (0, 17, 11, 28)
    wide = Field(size=59, jump=8, start=7.0, length=4)
    assert crop_box(wide, wide, 1, 2, 28, 28) == (0, 0, 28, 28)


def test_the_api_returns_typed_examples_equal_to_the_files(embedded_model, digits, tmp_path):
    import inception_tools as it

    result = it.examples(embedded_model, LAYER, digits, channels=[83, 0], k=4, mode="max", batch_size=16)
    assert isinstance(result, examples.Examples) and len(result) == 2 and result.channels.tolist() == [83, 0]
    assert result.top_values.dtype == np.float32 and result.top_positions.shape == (2, 4, 2)
    assert (np.diff(result.top_values, axis=1) <= 0).all() and (np.diff(result.bottom_values, axis=1) >= 0).all()
    assert result.top_ids[result.index(0)].tolist() == [digits.ids[r] for r in result.top_rows[1]]
    with pytest.raises(UserError, match="channel 5 is not among"):
        result.index(5)
    assert not any(tmp_path.iterdir())  # the API writes nothing
    table = dataset_examples(embedded_model, LAYER, digits, tmp_path, ExamplesConfig(k=4, mode="max", batch_size=16),
                             channels=[0]).table()
    assert result.table() == {c: table[c] for c in ("83", "0")}
    written = it.examples(embedded_model, LAYER, digits, channels=[83, 0], k=4, mode="max", batch_size=16,
                          out=tmp_path)  # the same folder: read back, the strips of 83 added
    assert written.table() == result.table()
    folder = tmp_path / "examples" / f"{LAYER}-max"
    assert (folder / "channel_0083_top.png").is_file() and (folder / "channel_0000_bottom.png").is_file()
    with pytest.raises(UserError, match=r"was made with config.k=4 \(now 3\)"):
        it.examples(embedded_model, LAYER, digits, k=3, mode="max", batch_size=16, out=tmp_path)
