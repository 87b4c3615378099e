"""Benchmark: the same importance fill and renders in one process and on a local Ray, same run.

Importance: the driver's serial part (channel means = the network up to the layer, and the
unablated pass) is timed once; then the fast engine fills the same channels x images in this
process and through :class:`inception_tools.scale.importance.RayEngine` on a local Ray of
``--workers`` one-CPU workers (Ray's start timed apart; then once more with the workers warm),
the records are checked byte-identical,
and the script prints ms per image-channel and the ratio Ray / one process. Renders: the same
channels rendered in this process and as Ray tasks, PNG/NPY bytes compared, s per step and ratio.
The per-unit costs it prints (prefix ms per image, unablated ms per image, fill ms per
image-channel, render s per step) are what the README's scale table is computed from.

    .venv/bin/python scripts/bench_ray.py                       # embedded mixed3a, all channels x 1000 digits
    .venv/bin/python scripts/bench_ray.py --model InceptionV1 --model-path ../shared/models/inceptionv1/InceptionV1.pb \\
        --layer mixed5a --data ../shared/data/imagenet-sample --limit 32 --channels 0-63 --render-channels 2 --steps 16
"""

import argparse
import os
import tempfile
import time

import numpy as np

from inception_tools import renders, runner
from inception_tools.cli.options import parse_channels
from inception_tools.data import load_dataset
from inception_tools.importance.outcomes import baseline, channel_means
from inception_tools.importance.run import engine_for, new_store
from inception_tools.layout import channel_file, visualization_dir
from inception_tools.models import load_model
from inception_tools.scale.importance import RayEngine
from inception_tools.scale.recipe import Recipe
from inception_tools.scale.render import ray_renderer
from inception_tools.surgery import Network


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def bench_importance(args, model, ray):
    dataset = load_dataset(args.data, model, limit=args.limit)
    channels = parse_channels(args.channels, model.depth(args.layer))
    net = Network(model, args.layer)
    n = len(dataset)
    t_prefix, values = timed(channel_means, net, dataset, args.batch_size)
    t_base, _ = timed(baseline, net, dataset, 1, args.batch_size)
    stores = []
    for name in ("one", "ray", "ray-warm"):
        folder = os.path.join(args.work, name)
        os.makedirs(folder)
        stores.append(new_store(folder, net, dataset, model.default_top_k, args.batch_size)[0])
    engine = engine_for("fast", net, dataset, values, model.default_top_k, args.batch_size)
    t_one, _ = timed(engine.fill, stores[0], channels, 0, n)
    recipe = Recipe(model.name, model.path, args.layer, data=args.data, limit=args.limit)
    spread = RayEngine(engine, recipe, ray)
    t_ray, _ = timed(spread.fill, stores[1], channels, 0, n)
    t_warm, _ = timed(spread.fill, stores[2], channels, 0, n)
    same = all(np.asarray(stores[0].records).tobytes() == np.asarray(s.records).tobytes() for s in stores[1:])
    units = len(channels) * n
    print(f"importance {model.name} {args.layer}: {len(channels)} channels x {n} images, batch {args.batch_size}")
    print(f"  prefix (channel means pass) {1e3 * t_prefix / n:.2f} ms/image; unablated pass {1e3 * t_base / n:.2f} ms/image")
    print(f"  fill, one process     {t_one:8.2f} s  {1e3 * t_one / units:.4f} ms/image-channel")
    print(f"  fill, Ray {args.workers} workers   {t_ray:8.2f} s  {1e3 * t_ray / units:.4f} ms/image-channel "
          f"(cold: includes the workers loading model and data)")
    print(f"  fill, Ray again     {t_warm:8.2f} s  {1e3 * t_warm / units:.4f} ms/image-channel (warm workers)")
    print(f"  ratio Ray / one process {t_ray / t_one:.2f} cold, {t_warm / t_one:.2f} warm; "
          f"records byte-identical: {same}")


def bench_render(args, model, ray):
    channels = list(range(args.render_channels))
    config = renders.RendersConfig(layer=args.layer, channels=tuple(channels), steps=args.steps, size=args.size)

    def render_into(out, distribute=None):
        folder = visualization_dir(os.path.join(args.work, out), args.layer, "diversity")
        return runner.run(renders.STAGE, renders.prepare(model, config, folder), folder, model=model,
                          distribute=distribute)

    t_one, _ = timed(render_into, "r1")
    t_ray, _ = timed(render_into, "r2", ray_renderer(Recipe(model.name, model.path, args.layer), ray))

    def files(out):
        folder = visualization_dir(os.path.join(args.work, out), args.layer, "diversity")
        return [open(channel_file(folder, c, ext), "rb").read() for c in channels for ext in (".png", ".npy")]

    steps = len(channels) * args.steps
    print(f"render {model.name} {args.layer}: {len(channels)} channels x {args.steps} steps, "
          f"{args.size or model.image_shape[0]} px, 4 images per channel")
    print(f"  one process     {t_one:8.2f} s  {t_one / steps:.4f} s/step")
    print(f"  Ray {args.workers} workers   {t_ray:8.2f} s  {t_ray / steps:.4f} s/step")
    print(f"  ratio Ray / one process {t_ray / t_one:.2f}; PNG and NPY byte-identical: {files('r1') == files('r2')}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--model-path")
    parser.add_argument("--layer", default="mixed3a")
    parser.add_argument("--data", default="embedded")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--channels", default=None, help="e.g. 0-63 (default: all)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--render-channels", type=int, default=4)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import ray

    model = load_model(args.model, args.model_path, layers=[args.layer])
    t_start, _ = timed(ray.init, num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    print(f"local Ray of {args.workers} workers started in {t_start:.1f} s")
    with tempfile.TemporaryDirectory() as work:
        args.work = work
        bench_importance(args, model, ray)
        if args.render_channels:
            bench_render(args, model, ray)
    ray.shutdown()


if __name__ == "__main__":
    main()
