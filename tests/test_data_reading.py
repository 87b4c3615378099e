"""Photo folders read in memory, streamed or through a cache: the same pixels, bounded memory, hostile cases."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from inception_tools.data import Reading, load_dataset
from inception_tools.data import cache as cache_module
from inception_tools.data.cache import CachedPixels
from inception_tools.data.decoding import Decoder
from inception_tools.data.stream import StreamedPixels
from inception_tools.errors import UserError
from test_data import WNIDS, save, tiny_model

STORES = [Reading("memory"), Reading("stream"), Reading("stream", workers=1)]


def photo_folder(path, n=30, broken=("n00000002_broken.jpg",), truncated=()):
    """``n`` seeded photos of three classes and assorted sizes and formats, plus unreadable files."""
    rng = np.random.default_rng(0)
    for i in range(n):
        size = (int(rng.integers(9, 40)), int(rng.integers(9, 40)))
        ext = ("png", "jpg", "bmp")[i % 3]
        save(path / f"{WNIDS[i % 3]}_{i:02d}.{ext}", rng.integers(0, 256, (*size, 3)))
    for name in broken:
        (path / name).write_bytes(b"not an image")
    for name in truncated:
        whole = (path / name).read_bytes()
        (path / name).write_bytes(whole[: len(whole) // 2])
    return path


def all_images(dataset, batch=4):
    return np.concatenate([dataset.images(b, b + batch) for b in range(0, len(dataset), batch)])


@pytest.mark.parametrize("limit", [None, 10])
def test_memory_stream_and_cache_give_the_same_images_labels_and_ids(tmp_path, limit):
    folder = photo_folder(tmp_path / "photos")
    reference = load_dataset(folder, tiny_model(), limit=limit, reading=Reading("memory", workers=1))
    assert isinstance(reference.stored, np.ndarray)
    for reading in [*STORES, Reading(cache=str(tmp_path / "cache")), Reading(cache=str(tmp_path / "cache"))]:
        data = load_dataset(folder, tiny_model(), limit=limit, reading=reading)
        assert data.ids == reference.ids and data.labels.tolist() == reference.labels.tolist()
        assert data.skipped == (1 if limit is None or reading.store != "memory" else 0)  # a limit stops early
        np.testing.assert_array_equal(all_images(data), all_images(reference))
        order = np.random.default_rng(1).permutation(len(data))[:7]  # a shuffled subset (until-reliable's)
        np.testing.assert_array_equal(all_images(data.reordered(order), 3), all_images(reference.reordered(order), 3))
    assert "n00000002_broken.jpg" not in reference.ids and len(reference) == (10 if limit else 30)


def test_streamed_folder_holds_no_pixels_and_prefetches_the_next_batch(tmp_path, monkeypatch):
    folder = photo_folder(tmp_path)
    data = load_dataset(folder, tiny_model(), reading=Reading("stream"))
    assert isinstance(data.stored, StreamedPixels) and not hasattr(data.stored, "__array__")
    decoded = []
    original = Decoder.decode
    monkeypatch.setattr(Decoder, "decode", lambda self, paths: decoded.append(len(paths)) or original(self, paths))
    first = data.images(0, 5)
    assert data.stored._ahead is not None  # images 5:10 being decoded in the background
    second = data.images(5, 10)
    data.stored._ahead[1].result()
    assert decoded == [5, 5, 5]  # this batch, the next one ahead (taken, not decoded again), the one after
    reference = load_dataset(folder, tiny_model(), reading=Reading("memory"))
    np.testing.assert_array_equal(np.concatenate([first, second]), reference.images(0, 10))


def test_auto_streams_only_above_the_memory_limit(tmp_path, monkeypatch):
    folder = photo_folder(tmp_path, n=6, broken=())
    assert isinstance(load_dataset(folder, tiny_model()).stored, np.ndarray)
    monkeypatch.setattr("inception_tools.data.reading.MEMORY_LIMIT", 5 * 8 * 8 * 3)
    assert isinstance(load_dataset(folder, tiny_model()).stored, StreamedPixels)
    assert isinstance(load_dataset(folder, tiny_model(), limit=5).stored, np.ndarray)


def test_a_truncated_photo_is_one_line_when_streamed_and_skipped_when_cached(tmp_path):
    folder = photo_folder(tmp_path / "photos", broken=(), truncated=("n00000002_10.jpg",))
    data = load_dataset(folder, tiny_model(), reading=Reading("stream"))
    with pytest.raises(UserError, match=r"cannot decode image .*n00000002_10.jpg .*header reads") as e:
        all_images(data)
    assert "\n" not in str(e.value)
    cached = load_dataset(folder, tiny_model(), reading=Reading(cache=str(tmp_path / "cache")))
    assert cached.skipped == 1 and "n00000002_10.jpg" not in cached.ids and len(cached) == 29


def test_second_load_reads_the_cache_without_decoding(tmp_path, monkeypatch):
    folder = photo_folder(tmp_path / "photos")
    first = load_dataset(folder, tiny_model(), reading=Reading(cache=str(tmp_path / "c")))
    monkeypatch.setattr(Decoder, "decode", lambda self, paths: pytest.fail("decoded again"))
    second = load_dataset(folder, tiny_model(), limit=12, reading=Reading(cache=str(tmp_path / "c")))
    assert isinstance(second.stored.pixels, CachedPixels)
    np.testing.assert_array_equal(all_images(second), all_images(first.reordered(
        [first.ids.index(i) for i in second.ids])))
    entries = [n for n in os.listdir(tmp_path / "c") if n.endswith(".json")]
    assert len(entries) == 1


def test_a_changed_folder_or_resize_gets_a_new_entry(tmp_path):
    folder = photo_folder(tmp_path / "photos")
    cache = str(tmp_path / "c")
    load_dataset(folder, tiny_model(), reading=Reading(cache=cache))
    save(folder / "n00000003_99.png", np.zeros((9, 9, 3)))
    grown = load_dataset(folder, tiny_model(), reading=Reading(cache=cache))
    load_dataset(folder, tiny_model(), resize="64-upscale", reading=Reading(cache=cache))
    assert len(grown) == 31 and "n00000003_99.png" in grown.ids
    assert len([n for n in os.listdir(cache) if n.endswith(".json")]) == 3


def test_a_stale_entry_is_one_line_and_not_read(tmp_path):
    folder = photo_folder(tmp_path / "photos")
    cache = tmp_path / "c"
    load_dataset(folder, tiny_model(), reading=Reading(cache=str(cache)))
    (pixels,) = cache.glob("*.pixels")
    with open(pixels, "r+b") as f:
        f.truncate(100)
    with pytest.raises(UserError, match=r"cache entry .* is stale \(100 bytes of pixels where its record says "
                                        r"5760\): delete .* to rebuild it") as e:
        load_dataset(folder, tiny_model(), reading=Reading(cache=str(cache)))
    assert "\n" not in str(e.value)
    (record,) = cache.glob("*.json")
    for foreign in ({"format": 0}, {"format": 1, "key": record.stem}, [1, 2]):
        record.write_text(json.dumps(foreign))
        with pytest.raises(UserError, match="is stale .*not format 1"):
            load_dataset(folder, tiny_model(), reading=Reading(cache=str(cache)))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_folder_is_one_line(tmp_path):
    folder = photo_folder(tmp_path / "photos")
    cache = tmp_path / "c"
    cache.mkdir()
    cache.chmod(0o555)
    with pytest.raises(UserError, match=r"cannot keep the decoded images in cache folder .*: it is read-only"):
        load_dataset(folder, tiny_model(), reading=Reading(cache=str(cache)))


def test_a_read_only_file_system_is_one_line_and_a_built_entry_still_reads(tmp_path, monkeypatch):
    folder = photo_folder(tmp_path / "photos")
    cache = tmp_path / "c"
    built = load_dataset(folder, tiny_model(), reading=Reading(cache=str(cache)))

    def read_only(path, mode="r", *args, **kwargs):
        if any(m in mode for m in "wa+"):
            raise OSError(30, "Read-only file system")
        return open(path, mode, *args, **kwargs)

    monkeypatch.setattr(cache_module, "open", read_only, raising=False)
    again = load_dataset(folder, tiny_model(), reading=Reading(cache=str(cache)))  # reading needs no write
    np.testing.assert_array_equal(all_images(again), all_images(built))
    with pytest.raises(UserError, match=r"cannot keep the decoded images in cache folder .*\(0.4 MB\): it is read-only"):
        load_dataset(folder, tiny_model(), resize="64-upscale", reading=Reading(cache=str(cache)))
    assert len(list(cache.glob("*.json"))) == 1
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="cannot keep the decoded images in cache folder"):
        load_dataset(folder, tiny_model(), reading=Reading(cache=str(tmp_path / "file" / "c")))


def test_an_interrupted_cache_build_resumes_where_it_stopped(tmp_path, monkeypatch):
    folder = photo_folder(tmp_path / "photos")
    cache = tmp_path / "c"
    monkeypatch.setattr(cache_module, "CHUNK", 8)
    original, calls = Decoder.decode, []

    def interrupted(self, paths):
        calls.append(len(paths))
        if len(calls) == 3 and sum(calls) == 24:
            raise RuntimeError("interrupted")
        return original(self, paths)

    monkeypatch.setattr(Decoder, "decode", interrupted)
    with pytest.raises(RuntimeError, match="interrupted"):
        load_dataset(folder, tiny_model(), reading=Reading(cache=str(cache)))
    assert [p.name.split(".", 1)[1] for p in sorted(cache.glob("*.json"))] == ["partial.json"]
    calls.clear()
    resumed = load_dataset(folder, tiny_model(), reading=Reading(cache=str(cache)))
    assert calls == [8, 7]  # 31 files in chunks of 8: the first two were kept
    reference = load_dataset(folder, tiny_model(), reading=Reading("memory"))
    assert resumed.ids == reference.ids
    np.testing.assert_array_equal(all_images(resumed), all_images(reference))


def test_bad_reading_settings_are_one_line():
    with pytest.raises(UserError, match="unknown store 'disk'; use one of auto, memory, stream"):
        Reading("disk")
    with pytest.raises(UserError, match="workers must be a number of decoding threads from 1 to 8, got 0"):
        Reading(workers=0)


def test_importance_is_the_same_streamed_cached_and_in_memory_from_the_command_line(tmp_path):
    folder = tmp_path / "digits"
    folder.mkdir()
    digits = load_dataset("embedded", tiny_model((28, 28, 3), [str(d) for d in range(10)]), limit=40)
    for i, label in enumerate(digits.labels):
        pixels = (digits.images(i, i + 1)[0] * 255).round().astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{label}_{i}.png")
    outputs = {}
    for name, flags in [("memory", ["--store", "memory"]), ("stream", ["--store", "stream"]),
                        ("cache", ["--cache", str(tmp_path / "cache")])]:
        out = tmp_path / f"{name}.csv"
        run = subprocess.run([sys.executable, "-m", "inception_tools", "importance", "--data", str(folder),
                              "--resize", "center-crop", "--channels", "0-3", "--out", str(out), *flags],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        outputs[name] = out.read_text()
    assert outputs["memory"] == outputs["stream"] == outputs["cache"]


def test_a_ray_worker_reads_the_folder_as_the_driver_says(tmp_path, embedded_model):
    from inception_tools.scale import recipe as recipes

    folder = tmp_path / "digits"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(np.full((28, 28), 40 * i, np.uint8)).save(folder / f"{i % 3}_{i}.png")
    cache = tmp_path / "cache"
    plan = recipes.Recipe("embedded", embedded_model.path, "mixed3a", data=str(folder), resize="center-crop",
                          reading=Reading(cache=str(cache)))
    _, dataset = recipes.load(plan)
    assert isinstance(dataset.stored, CachedPixels) and len(list(cache.glob("*.pixels"))) == 1
    _, streamed = recipes.load(dataclasses.replace(plan, reading=Reading("stream")))
    assert isinstance(streamed.stored, StreamedPixels)
    np.testing.assert_array_equal(all_images(streamed), all_images(dataset))


def test_two_processes_on_one_cache_entry_build_it_once(tmp_path):
    folder = photo_folder(tmp_path / "photos", n=60)
    script = ("import sys, types; sys.path.insert(0, 'tests'); from test_data import tiny_model; "
              "from inception_tools.data import Reading, load_dataset; "
              f"d = load_dataset({str(folder)!r}, tiny_model(), reading=Reading(cache={str(tmp_path / 'c')!r}, "
              "workers=1)); print(len(d), d.images(0, len(d)).sum())")
    runs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate()[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0] and outputs[0] == outputs[1] and outputs[0].startswith("60 ")
    assert sorted(p.suffix for p in (tmp_path / "c").iterdir()) == [".json", ".lock", ".pixels"]


def test_only_the_data_package_touches_the_stored_pixels():
    import pathlib
    import re

    package = pathlib.Path(__file__).resolve().parents[1] / "inception_tools"
    touching = [str(path.relative_to(package)) for path in package.rglob("*.py")
                if "data" not in path.relative_to(package).parts[:1]
                and re.search(r"\.stored\b", path.read_text())]
    assert touching == []  # they read images(start, stop) and batches(): the pixels may be streamed or cached
