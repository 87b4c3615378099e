"""Benchmark: reference (per-channel partial_run) vs fast importance engine, same process.

Runs both engines on the same graph, images and channels, checks they agree,
and prints ms per image-channel, their ratio, the fast engine's achieved
GFLOP/s against the suffix's multiply-adds, and peak memory. The fast engine
runs twice more, alternately with and without the label-free measures (KL,
L1), best of ``--repeats`` each: their ratio is the cost of those measures.
Uses the local InceptionV1 copy when ../shared exists, else the random-weight stand-in; ``--model`` takes
any model the toolkit loads (a Lucid zoo name with ``--model-path``, a Keras file, ...) on random images.

    .venv/bin/python scripts/bench_importance.py --layers mixed5a --images 32 --channels 832
    .venv/bin/python scripts/bench_importance.py --layers all --images 32 --channels 128
    .venv/bin/python scripts/bench_importance.py --model ResnetV2_50_slim --model-path ResnetV2_50.pb \
        --layers resnet_v2_50/block3/unit_1/bottleneck_v2/preact/Relu --images 8 --channels 64
"""

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from inception_tools.importance.cost import suffix_multiply_adds
from inception_tools.importance.fast import suffix_for
from inception_tools.importance.outcomes import channel_means
from inception_tools.importance.run import engine_for, new_store
from inception_tools.models import load_model
from inception_tools.surgery import Network

SHARED = Path(__file__).resolve().parents[2] / "shared"


def model_and_data(images, name=None, path=None):
    from inception_tools.data import load_dataset

    if name:
        model = load_model(name, path)
        return model, RandomImages(model, images), f"{name} on random images"

    pb = SHARED / "models/inceptionv1/InceptionV1.pb"
    if pb.is_file():
        model = load_model("InceptionV1", str(pb))
        return model, load_dataset(str(SHARED / "data/imagenet-sample"), model, limit=images), "local InceptionV1"
    from inception_tools.models.standin import write_standin

    folder = Path(tempfile.mkdtemp())
    write_standin(folder / "InceptionV1.pb", seed=0)
    (folder / "synsets.txt").write_text("dummy\n" + "".join(f"n{i:08d}\n" for i in range(1, 1001)))
    model = load_model("InceptionV1", str(folder / "InceptionV1.pb"))
    return model, RandomImages(model, images), "random-weight stand-in"


class RandomImages:
    """Fixed random images with random labels, for the stand-in."""

    def __init__(self, model, n):
        rng = np.random.RandomState(0)
        self.data = rng.rand(n, *model.image_shape).astype(np.float32)
        self.labels = rng.randint(1 if model.num_classes == 1001 else 0, model.num_classes, n)
        self.resize = "none"
        self.order = np.arange(n)
        self.ids = [f"random:{i}" for i in range(n)]

    def __len__(self):
        return len(self.data)

    def images(self, start=0, stop=None):
        return self.data[start:stop]

    def batches(self, batch_size, desc=None):
        for start in range(0, len(self), batch_size):
            yield start, self.images(start, start + batch_size)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def fill(method, net, dataset, channels, values, top_k, batch_size, workdir, **options):
    """Fill a fresh store with ``method``; return it and the seconds the fill took (not the baseline)."""
    store, _ = new_store(workdir, net, dataset, top_k, batch_size)
    engine = engine_for(method, net, dataset, values, top_k, batch_size, **options)
    return timed(lambda: engine.fill(store, channels, 0, len(dataset)) or store)


def bench_layer(model, dataset, layer, n_channels, ref_channels, batch_size, top_k, repeats):
    net = Network(model, layer)
    channels = list(range(min(n_channels, model.depth(layer))))
    values = channel_means(net, dataset, batch_size)
    macs = suffix_multiply_adds(net, dataset.images(0, 1))
    ref_ch = channels[:ref_channels]
    with tempfile.TemporaryDirectory() as workdir:
        ref, t_ref = fill("reference", net, dataset, ref_ch, values, top_k, batch_size, workdir)
        ref_records = np.array(ref.records[:len(ref_ch)])
    with tempfile.TemporaryDirectory() as workdir:
        fill("fast", net, dataset, channels[:2], values, top_k, batch_size, workdir)  # warm-up
    times = {True: [], False: []}
    for _ in range(repeats):
        for label_free in (False, True):
            with tempfile.TemporaryDirectory() as workdir:
                fast, seconds = fill("fast", net, dataset, channels, values, top_k, batch_size, workdir,
                                     label_free=label_free)
                times[label_free].append(seconds)
                if label_free:
                    fast_records = np.array(fast.records[:len(ref_ch)])
    # Same per-image correctness, and the CSV's float columns (means over images) within 1e-5 of the logits'
    # scale (float32 round-off grows with the logits, which reach hundreds in random-weight stand-ins).
    assert (ref_records["outcome"] == fast_records["outcome"]).all()
    scale = max(1.0, float(np.abs(net.unablated_logits(dataset.images(0, min(len(dataset), batch_size)))).max()))
    worst = 0.0
    for field in ("delta_logprob", "kl", "l1"):
        a, b = ref_records[field].astype(np.float64), fast_records[field].astype(np.float64)
        assert np.abs(a.mean(axis=1) - b.mean(axis=1)).max() < 1e-5 * scale, (field, scale)
        worst = max(worst, float(np.abs(a - b).max()))
    t_fast, t_basic = min(times[True]), min(times[False])
    ms_ref = 1000 * t_ref / (len(ref_ch) * len(dataset))
    ms_fast = 1000 * t_fast / (len(channels) * len(dataset))
    ms_basic = 1000 * t_basic / (len(channels) * len(dataset))
    gflops = 2 * macs * len(channels) * len(dataset) / t_fast / 1e9
    print(f"{layer}: fast engine suffix {'rank-one shortcut' if suffix_for(net).uses_shortcut else 'fed layer'}; "
          f"largest |logit| {scale:.3g}")
    return ms_ref, ms_fast, ms_basic, macs, gflops, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="mixed5a", help="comma-separated, or 'all' for mixed3a..mixed5b")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--channels", type=int, default=832,
                        help="channels for the fast engine (at most the layer's; a scan of all amortizes the prefix)")
    parser.add_argument("--reference-channels", type=int, default=4, help="channels for the (slow) reference")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2, help="fast runs with and without KL/L1 (best of)")
    parser.add_argument("--model", default=None, help="any model name or file (default: InceptionV1)")
    parser.add_argument("--model-path", default=None, help="a local GraphDef for a --model name")
    parser.add_argument("--top-k", type=int, default=None, help="top-k of the score (default: the model's)")
    args = parser.parse_args()
    model, dataset, which = model_and_data(args.images, args.model, args.model_path)
    top_k = args.top_k or (10 if args.model is None else model.default_top_k)
    layers = args.layers.split(",")
    if args.layers == "all":
        layers = [name for name in model.layer_depths if name.startswith("mixed")]
    print(f"model: {which}; {len(dataset)} images; {os.cpu_count()} CPU cores")
    width = max(8, *map(len, layers))
    print(f"{'layer':{width}} {'ref ms/img-ch':>13} {'fast ms/img-ch':>14} {'ratio':>6} {'no KL/L1 ms':>11} "
          f"{'KL/L1 cost':>10} {'suffix MMAC':>11} {'fast GFLOP/s':>12} {'max |diff|':>10}")
    for layer in layers:
        ms_ref, ms_fast, ms_basic, macs, gflops, worst = bench_layer(
            model, dataset, layer, args.channels, args.reference_channels, args.batch_size, top_k, args.repeats)
        print(f"{layer:{width}} {ms_ref:13.2f} {ms_fast:14.3f} {ms_ref / ms_fast:6.1f} {ms_basic:11.3f} "
              f"{ms_fast / ms_basic:10.3f} {macs / 1e6:11.1f} {gflops:12.1f} {worst:10.1e}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:.0f} MB")


if __name__ == "__main__":
    main()
