"""Render InceptionV1 channels at full size and check them against a dataset.

For each channel: time ``render_channels`` (the study's objective, through
Lucid's ``render_vis``) and, to separate the per-step cost from building the
graph, a 2-step render; then evaluate the four images in the plain model and
compare the channel's activation (mean over positions: the channel objective;
and the maximum over positions) with its maximum over every dataset image.
Prints one line per channel and writes ``bench.json`` in ``--out``;
``--docs DIR`` also writes half-size copies of the strips as
``DIR/render_<layer>_<cccc>.png``.

    .venv/bin/python scripts/bench_visualize.py --channels 0,1 --steps 512 --docs docs/img
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image

from inception_tools.data import load_dataset
from inception_tools.examples import LayerReader
from inception_tools.models import load_model
from inception_tools.layout import visualization_png
from inception_tools.visualization import load_channel, render, render_channels

SHARED = Path(__file__).resolve().parents[2] / "shared"


def dataset_extremes(model, layer, dataset, batch_size=32):
    """Per channel: the largest spatial mean and the largest spatial max over the dataset."""
    reader = LayerReader(model, layer)
    means, maxima = [], []
    for _, images in dataset.batches(batch_size, desc=f"dataset {layer}"):
        acts = reader(images)
        means.append(acts.mean(axis=(1, 2)).max(axis=0))
        maxima.append(acts.max(axis=(1, 2)).max(axis=0))
    reader.close()
    return np.max(means, axis=0), np.max(maxima, axis=0)


def render_activations(model, layer, images, channel):
    reader = LayerReader(model, layer)
    acts = reader(images)[..., channel]
    reader.close()
    return acts.mean(axis=(1, 2)), acts.max(axis=(1, 2))


def save_half_size(png, target):
    image = Image.open(png)
    image.resize((image.width // 2, image.height // 2), Image.LANCZOS).save(target, optimize=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-path", default=str(SHARED / "models" / "inceptionv1" / "InceptionV1.pb"))
    parser.add_argument("--data", default=str(SHARED / "data" / "imagenet-sample"))
    parser.add_argument("--limit", type=int, default=None, help="use only the first N dataset images")
    parser.add_argument("--layer", default="mixed5a")
    parser.add_argument("--channels", default="0,1")
    parser.add_argument("--steps", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="outputs/bench-visualize")
    parser.add_argument("--docs", help="folder for half-size copies of the strips")
    args = parser.parse_args()

    model = load_model("InceptionV1", args.model_path, layers=[args.layer])
    dataset = load_dataset(args.data, model, limit=args.limit)
    data_mean, data_max = dataset_extremes(model, args.layer, dataset)
    results = []
    for channel in [int(c) for c in args.channels.split(",")]:
        start = time.perf_counter()
        render(model, args.layer, [channel], steps=1, seed=args.seed)
        overhead = time.perf_counter() - start
        start = time.perf_counter()
        render_channels(model, args.layer, [channel], args.out, steps=args.steps, seed=args.seed)
        total = time.perf_counter() - start
        per_step = (total - overhead) / (args.steps - 1)
        mean, peak = render_activations(model, args.layer, load_channel(args.out, args.layer, channel), channel)
        row = dict(channel=channel, steps=args.steps, seconds=round(total, 1), seconds_per_step=round(per_step, 3),
                   render_mean=[round(float(x), 2) for x in mean], dataset_max_mean=round(float(data_mean[channel]), 2),
                   render_max=[round(float(x), 2) for x in peak], dataset_max_max=round(float(data_max[channel]), 2))
        results.append(row)
        print(json.dumps(row), flush=True)
        if args.docs:
            os.makedirs(args.docs, exist_ok=True)
            png = visualization_png(args.out, args.layer, channel)
            save_half_size(png, os.path.join(args.docs, f"render_{args.layer}_{channel:04d}.png"))
    per_step = float(np.mean([r["seconds_per_step"] for r in results]))
    depth = model.depth(args.layer)
    summary = dict(images=len(dataset), layer=args.layer, cpu_count=os.cpu_count(), mean_seconds_per_step=per_step,
                   hours_all_channels=round(per_step * (args.steps + 1) * depth / 3600, 1), channels=results)
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"{per_step:.2f} s/step on {os.cpu_count()} cores: {args.steps} steps x {depth} channels of {args.layer} "
          f"= {summary['hours_all_channels']} h")


if __name__ == "__main__":
    main()
