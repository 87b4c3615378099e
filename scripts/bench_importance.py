"""Benchmark: reference (per-channel partial_run) vs fast importance engine, same process.

Runs both engines on the same graph, images and channels, checks they agree,
and prints ms per image-channel, their ratio, the fast engine's achieved
GFLOP/s against the suffix's multiply-adds, and peak memory. Uses the local
InceptionV1 copy when ../shared exists, else the random-weight stand-in.

    .venv/bin/python scripts/bench_importance.py --layers mixed5a --images 32 --channels 832
    .venv/bin/python scripts/bench_importance.py --layers all --images 32 --channels 128
"""

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from inception_tools.importance.cost import suffix_multiply_adds
from inception_tools.importance.fast import fast_outcomes
from inception_tools.importance.outcomes import channel_means, reference_outcomes
from inception_tools.models import load_model
from inception_tools.surgery import Network

SHARED = Path(__file__).resolve().parents[2] / "shared"


def model_and_data(images):
    from inception_tools.data import load_dataset

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
        self.labels = rng.randint(1, 1001, n)
        self.resize = "none"

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


def bench_layer(model, dataset, layer, n_channels, ref_channels, batch_size, top_k):
    net = Network(model, layer)
    channels = list(range(min(n_channels, model.depth(layer))))
    values = channel_means(net, dataset, batch_size)
    macs = suffix_multiply_adds(net, dataset.images(0, 1))
    ref_ch = channels[:ref_channels]
    ref, t_ref = timed(lambda: list(reference_outcomes(net, dataset, ref_ch, values, top_k, batch_size)))
    with tempfile.TemporaryDirectory() as workdir:
        list(fast_outcomes(net, dataset, channels[:2], values, top_k, batch_size, workdir=workdir, report=None))
    with tempfile.TemporaryDirectory() as workdir:
        fast, t_fast = timed(lambda: list(fast_outcomes(net, dataset, channels, values, top_k, batch_size,
                                                        workdir=workdir, report=None)))
    worst = 0.0
    for (c, correct, logprob), (c2, correct2, logprob2) in zip(ref, fast):
        # Same per-image correctness, and the CSV's float column (a mean over images) within 1e-5.
        assert c == c2 and (correct == correct2).all() and abs(logprob.mean() - logprob2.mean()) < 1e-5, c
        worst = max(worst, float(np.abs(logprob - logprob2).max()))
    ms_ref = 1000 * t_ref / (len(ref_ch) * len(dataset))
    ms_fast = 1000 * t_fast / (len(channels) * len(dataset))
    gflops = 2 * macs * len(channels) * len(dataset) / t_fast / 1e9
    return ms_ref, ms_fast, macs, gflops, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="mixed5a", help="comma-separated, or 'all' for mixed3a..mixed5b")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--channels", type=int, default=832,
                        help="channels for the fast engine (at most the layer's; a scan of all amortizes the prefix)")
    parser.add_argument("--reference-channels", type=int, default=4, help="channels for the (slow) reference")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    model, dataset, which = model_and_data(args.images)
    layers = args.layers.split(",")
    if args.layers == "all":
        layers = [name for name in model.layer_depths if name.startswith("mixed")]
    print(f"model: {which}; {len(dataset)} images; {os.cpu_count()} CPU cores")
    print(f"{'layer':8} {'ref ms/img-ch':>13} {'fast ms/img-ch':>14} {'ratio':>6} {'suffix MMAC':>11} "
          f"{'fast GFLOP/s':>12} {'max |dlogp|':>11}")
    for layer in layers:
        ms_ref, ms_fast, macs, gflops, worst = bench_layer(model, dataset, layer, args.channels,
                                                           args.reference_channels, args.batch_size, top_k=10)
        print(f"{layer:8} {ms_ref:13.2f} {ms_fast:14.3f} {ms_ref / ms_fast:6.1f} {macs / 1e6:11.1f} {gflops:12.1f} "
              f"{worst:11.1e}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:.0f} MB")


if __name__ == "__main__":
    main()
