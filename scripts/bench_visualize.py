"""Render speed: Lucid's ``render_vis`` (the earlier method) against the fast engine, in one run.

For each channel and each repeat, alternating the engines: render the
channel's four images (the study's objective) with ``steps`` and with 1 step;
the difference over ``steps - 1`` is the time per step without building and
compiling the graph, whose cost (the 1-step render) is shown as ``overhead``.
The best of the repeats is reported per engine, with the ratio, and whether
each engine's repeats gave the same bytes. Then the two engines' images of
the same seed are compared: mean absolute pixel difference and the channel's
mean activation each reached (``LayerReader``). ``--data`` also compares with
the channel's best over a dataset; ``--docs DIR`` writes half-size copies of
the fast engine's strips as ``DIR/render_<layer>_<cccc>.png``.
Prints one JSON line per channel and a summary; writes ``bench.json`` in ``--out``.

    flock /work/heavy.lock nice -n 5 .venv/bin/python scripts/bench_visualize.py --channels 10 --steps 20
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from inception_tools.examples import LayerReader
from inception_tools.imagefiles import save_strip
from inception_tools.models import load_model
from inception_tools.visualization import RenderConfig, render

SHARED = Path(__file__).resolve().parents[2] / "shared"
ENGINES = ("render_vis", "fast")


def dataset_best(model, layer, path, limit, batch_size=32):
    """Per channel: the largest spatial mean over the dataset's images."""
    from inception_tools.data import load_dataset

    reader = LayerReader(model, layer)
    best = [reader(images).mean(axis=(1, 2)).max(axis=0)
            for _, images in load_dataset(path, model, limit=limit).batches(batch_size, desc=f"dataset {layer}")]
    reader.close()
    return np.max(best, axis=0)


def timed_render(model, layer, channel, steps, seed, engine):
    start = time.perf_counter()
    images = render(model, layer, [channel], RenderConfig(steps=steps, seed=seed, engine=engine))[0]
    return time.perf_counter() - start, images


def bench_channel(model, layer, channel, steps, seed, repeats):
    """Best per-step time and overhead of each engine, its images, and whether its repeats gave the same bytes
    (None for one repeat)."""
    per_step = {e: [] for e in ENGINES}
    overhead = {e: [] for e in ENGINES}
    images = {e: [] for e in ENGINES}
    for _ in range(repeats):
        for engine in ENGINES:
            long, pictures = timed_render(model, layer, channel, steps, seed, engine)
            short, _ = timed_render(model, layer, channel, 1, seed, engine)
            per_step[engine].append((long - short) / (steps - 1))
            overhead[engine].append(short)
            images[engine].append(pictures)
    same = ({e: all(np.array_equal(images[e][0], other) for other in images[e][1:]) for e in ENGINES}
            if repeats > 1 else None)  # one repeat: nothing to compare
    return ({e: min(per_step[e]) for e in ENGINES}, {e: min(overhead[e]) for e in ENGINES},
            {e: images[e][-1] for e in ENGINES}, same)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-path", default=str(SHARED / "models" / "inceptionv1" / "InceptionV1.pb"))
    parser.add_argument("--layer", default="mixed5a")
    parser.add_argument("--channels", default="10")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="alternating repeats; the best is reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", help="dataset folder to compare the activations with")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N dataset images")
    parser.add_argument("--out", default="outputs/bench-visualize")
    parser.add_argument("--docs", help="folder for half-size copies of the fast engine's strips")
    args = parser.parse_args()
    if args.steps < 2:
        parser.error("--steps must be at least 2")

    model = load_model("InceptionV1", args.model_path, layers=[args.layer])
    best = dataset_best(model, args.layer, args.data, args.limit) if args.data else None
    reader = LayerReader(model, args.layer)
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for channel in [int(c) for c in args.channels.split(",")]:
        per_step, overhead, images, same = bench_channel(model, args.layer, channel, args.steps, args.seed, args.repeats)
        reached = {e: [round(float(x), 1) for x in reader(images[e])[..., channel].mean(axis=(1, 2))]
                   for e in ENGINES}
        row = dict(channel=channel, steps=args.steps,
                   seconds_per_step={e: round(per_step[e], 3) for e in ENGINES},
                   overhead_seconds={e: round(overhead[e], 1) for e in ENGINES},
                   ratio=round(per_step["render_vis"] / per_step["fast"], 2), repeats_same_bytes=same,
                   mean_abs_pixel_diff=round(float(np.abs(images["fast"] - images["render_vis"]).mean()), 4),
                   activation_reached=reached)
        if best is not None:
            row["dataset_best"] = round(float(best[channel]), 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.docs:
            from PIL import Image

            os.makedirs(args.docs, exist_ok=True)
            png = os.path.join(args.out, f"render_{args.layer}_{channel:04d}.png")
            save_strip(images["fast"], png)
            image = Image.open(png)
            image.resize((image.width // 2, image.height // 2), Image.LANCZOS).save(
                os.path.join(args.docs, f"render_{args.layer}_{channel:04d}.png"), optimize=True)
    reader.close()
    mean = {e: float(np.mean([r["seconds_per_step"][e] for r in rows])) for e in ENGINES}
    summary = dict(layer=args.layer, cpu_count=os.cpu_count(), repeats=args.repeats, seconds_per_step=mean,
                   ratio=mean["render_vis"] / mean["fast"], channels=rows)
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"{args.layer} at {model.image_shape[0]} px, 4 images, {os.cpu_count()} cores, best of {args.repeats}: "
          f"render_vis {mean['render_vis']:.3f} s/step, fast {mean['fast']:.3f} s/step, "
          f"ratio {summary['ratio']:.2f}")


if __name__ == "__main__":
    main()
