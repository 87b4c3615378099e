"""Benchmark: an importance study against the number of photos -- memory, decoding, cache, time -- in one run.

Writes once a synthetic photo folder of the largest size (seeded smooth colour fields with noise, JPEG,
``--width`` x ``--height``, round-robin over the model's real classes so each file carries a real WordNet
id), and hard-linked folders of the first N for each smaller size. Then, each in a fresh process:

1. loading alone, per size: peak RSS and seconds with the pixels in memory (the naive method), streamed,
   and through a cache folder (built, then opened again: the start of a second command);
2. decode throughput with 1 and 2 threads (images per second, in-memory load of ``--decode-images``);
3. ``inception-tools importance`` on ``--layer``'s ``--channels`` per size: peak RSS and seconds, through
   the cache (every size) and streamed (sizes up to ``--stream-max``); the peak's growth from the smallest
   size to the largest is the figure that must stay flat;
4. a time model from the smallest size, three scans back to back: ``--channels``, 8x as many channels
   (seconds per image for the passes every channel shares, and per image-channel), and a control-variate
   scan (``--fraction``): the projected wall time of an all-channel study of ``--project`` images, exact
   and control-variate, alone and split over Ray workers (channel shards: each worker pays the shared
   passes, so they do not shrink with workers).

    .venv/bin/python scripts/bench_study_scale.py --model-path ../shared/models/inceptionv1/InceptionV1.pb \\
        --sizes 1000,5000,20000 --work /tmp/scale --out docs/benchmarks/study_scale.json
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

CHILD = """
import json, resource, sys, time
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
start, cpu0 = time.time(), 0.0
mode = sys.argv[1]
if mode == "cli":
    from inception_tools.cli import main
    rc = main(sys.argv[2:])
else:
    from inception_tools.data import Reading, load_dataset
    from inception_tools.models import load_model
    spec = json.loads(sys.argv[2])
    model = load_model("InceptionV1", spec["model_path"])
    t0, cpu0 = time.time(), cpu()
    data = load_dataset(spec["folder"], model, limit=spec.get("limit"), reading=Reading(**spec["reading"]))
    first = data.images(0, 32)
    rc = 0 if len(data) and first.shape[0] else 1
    start = t0
print("BENCH " + json.dumps({"rc": rc, "seconds": time.time() - start, "cpu": cpu() - cpu0,
                             "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
      file=sys.stderr)
"""


def child(*args):
    """Run CHILD in a fresh process; its figures (rc, seconds, peak RSS) and the wall time."""
    start = time.time()
    run = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True)
    lines = [line for line in run.stderr.splitlines() if line.startswith("BENCH ")]
    if run.returncode or not lines:
        raise SystemExit(f"child failed ({run.returncode}): {run.stderr[-2000:]}")
    found = json.loads(lines[-1][6:])
    found["wall"] = time.time() - start
    return found


def synthetic_photo(rng, width, height):
    """A smooth random colour field with fine noise: compresses and decodes like a photo, not like flat colour."""
    coarse = rng.integers(0, 256, (height // 32 + 2, width // 32 + 2, 3), dtype=np.uint8)
    smooth = np.asarray(Image.fromarray(coarse).resize((width, height), Image.BICUBIC), np.int16)
    noise = rng.integers(-12, 13, smooth.shape, dtype=np.int16)
    return Image.fromarray(np.clip(smooth + noise, 0, 255).astype(np.uint8))


def write_folders(work, sizes, wnids, width, height):
    """``work/photos-N`` for each size: the first N of one seeded set (hard links), written once."""
    largest = work / f"photos-{max(sizes)}"
    done = largest / ".complete"
    if not done.exists():
        largest.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        start = time.time()
        for i in range(max(sizes)):
            path = largest / f"{wnids[i % len(wnids)]}_{i:06d}.JPEG"
            photo = synthetic_photo(rng, width, height)
            if not path.exists():
                photo.save(path, quality=90)
        done.write_text(f"{time.time() - start:.1f}")
    names = sorted(p.name for p in largest.glob("*.JPEG"))
    by_index = sorted(names, key=lambda n: int(n.split("_")[1].split(".")[0]))
    for n in sizes:
        folder = work / f"photos-{n}"
        if folder != largest and not (folder / ".complete").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            for name in by_index[:n]:
                os.link(largest / name, folder / name)
            (folder / ".complete").write_text("links")
    return {n: work / f"photos-{n}" for n in sizes}


def importance(args, folder, channels, out, reading_flags, extra=()):
    """A scan in a fresh process: its figures, with ``scan_seconds`` from its importance.json (no start-up)."""
    found = child("cli", "importance", "--model", "InceptionV1", "--model-path", args.model_path,
                  "--layer", args.layer, "--data", str(folder), "--channels", channels, "--out", str(out),
                  "--batch-size", str(args.batch_size), *reading_flags, *extra)
    found["scan_seconds"] = json.loads((out.parent / "importance.json").read_text())["seconds"]
    return found


def channel_span(spec):
    first, last = (int(x) for x in spec.split("-"))
    return first, last, last - first + 1


def markdown(results):
    """The figures as the documentation's tables."""
    lines = ["| photos | load: memory | load: stream | cache: build | cache: open (2nd command) |", "|---|---|---|---|---|"]
    for n, row in results["load"].items():
        lines.append(f"| {int(n):,} | " + " | ".join(f"{row[k]['seconds']:.1f} s, {row[k]['peak_rss_mb']:,.0f} MB"
                                                     for k in ("memory", "stream", "cache build", "cache open")) + " |")
    lines += ["", "| photos | importance through the cache | importance streamed |", "|---|---|---|"]
    for n, row in results["importance"].items():
        cells = [f"{row[k].get('scan_seconds', row[k]['seconds']):.0f} s, peak {row[k]['peak_rss_mb']:,.0f} MB" if k in row else "-"
                 for k in ("cache", "stream")]
        lines.append(f"| {int(n):,} | " + " | ".join(cells) + " |")
    lines += ["", "| decoding threads | photos per second | CPU seconds / wall seconds |", "|---|---|---|"]
    for threads, row in results["decode"].items():
        ratio = f"{row['cpu'] / row['seconds']:.2f}" if "cpu" in row else "-"
        lines.append(f"| {threads} | {row['per_second']:.0f} | {ratio} |")
    if "projection" in results:
        lines += ["", "| Ray workers | exact | control variate F = 0.05 | F = 0.1 | F = 0.2 |", "|---|---|---|---|---|"]
        for workers, row in results["projection"].items():
            lines.append(f"| {workers} | {row['exact_h']:.1f} h | {row['cv_0.05_h']:.1f} h | {row['cv_0.1_h']:.1f} h | "
                         f"{row['cv_0.2_h']:.1f} h |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-path", help="InceptionV1.pb (the local copy)")
    parser.add_argument("--sizes", default="1000,5000,20000", help="numbers of photos")
    parser.add_argument("--work", default="/tmp/bench-study-scale", help="folders, caches and scans")
    parser.add_argument("--layer", default="mixed5a")
    parser.add_argument("--channels", default="0-7", help="channels scored at every size (a range a-b)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--stream-max", type=int, default=5000, help="largest size also scanned streamed")
    parser.add_argument("--decode-images", type=int, default=1000)
    parser.add_argument("--fraction", type=float, default=0.1, help="exact fraction of the control-variate run")
    parser.add_argument("--project", type=int, default=50_000, help="images of the projected study")
    parser.add_argument("--workers", default="1,4,16", help="Ray workers in the projection")
    parser.add_argument("--width", type=int, default=500)
    parser.add_argument("--height", type=int, default=375)
    parser.add_argument("--out", default=None, help="JSON of every figure, saved as they come: a rerun measures only "
                        "what it lacks")
    parser.add_argument("--tables", default=None, help="only print the tables of a JSON written before")
    args = parser.parse_args()
    if args.tables:
        print(markdown(json.loads(Path(args.tables).read_text())))
        return
    if not args.model_path:
        parser.error("--model-path is required")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    work = Path(args.work)

    from inception_tools.data.dataset import is_placeholder
    from inception_tools.models import load_model

    model = load_model("InceptionV1", args.model_path)
    depth = model.depth(args.layer)
    wnids = [w for w in model.label_ids if not is_placeholder(w)]
    folders = write_folders(work, sizes, wnids, args.width, args.height)
    results = {"sizes": sizes, "layer": args.layer, "channels": args.channels, "photo": [args.width, args.height],
               "cpus": os.cpu_count(), "load": {}, "importance": {}, "decode": {}}
    if args.out and Path(args.out).is_file():  # an interrupted run: keep what it measured
        results.update({k: v for k, v in json.loads(Path(args.out).read_text()).items()
                        if k in ("load", "importance", "decode", "time_runs")})

    def save():
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(results, indent=1))

    def spec(n, **reading):
        return json.dumps({"model_path": args.model_path, "folder": str(folders[n]), "reading": reading})

    for n in sizes:
        if str(n) in results["load"]:
            continue
        cache = work / f"cache-{n}"
        shutil.rmtree(cache, ignore_errors=True)
        row = {"memory": child("load", spec(n, store="memory")), "stream": child("load", spec(n, store="stream")),
               "cache build": child("load", spec(n, cache=str(cache))),
               "cache open": child("load", spec(n, cache=str(cache)))}
        results["load"][str(n)] = row
        save()
        print(f"load {n:6d}: " + ", ".join(f"{k} {v['seconds']:.1f} s {v['peak_rss_mb']:.0f} MB"
                                              for k, v in row.items()), flush=True)

    decode_n = min(args.decode_images, sizes[-1])
    for threads in (1, 2):
        if str(threads) in results["decode"]:
            continue
        found = child("load", json.dumps({"model_path": args.model_path, "folder": str(folders[sizes[-1]]),
                                          "limit": decode_n, "reading": {"store": "memory", "workers": threads}}))
        results["decode"][str(threads)] = {"images": decode_n, "seconds": found["seconds"], "cpu": found["cpu"],
                                      "per_second": decode_n / found["seconds"]}
        print(f"decode {decode_n} photos, {threads} thread(s): {decode_n / found['seconds']:.0f} img/s "
              f"(CPU {found['cpu']:.1f} s in {found['seconds']:.1f} s)", flush=True)
        save()

    for n in sizes:
        row = results["importance"].setdefault(str(n), {})
        for name, flags in [("cache", ["--cache", str(work / f"cache-{n}")]), ("stream", ["--store", "stream"])]:
            if (name == "stream" and n > args.stream_max) or name in row:
                continue
            out = work / f"scan-{name}-{n}" / "importance.csv"
            shutil.rmtree(out.parent, ignore_errors=True)
            row[name] = importance(args, folders[n], args.channels, out, flags)
            print(f"importance {n:6d} {name}: {row[name]['scan_seconds']:.0f} s scan, {row[name]['seconds']:.0f} s in "
                  f"all, peak {row[name]['peak_rss_mb']:.0f} MB", flush=True)
            save()
    peaks = [results["importance"][str(n)]["cache"]["peak_rss_mb"] for n in sizes]
    results["growth_mb"] = peaks[-1] - peaks[0]
    print(f"peak RSS growth {sizes[0]} -> {sizes[-1]} photos (cache): {results['growth_mb']:+.0f} MB")

    first, _, width = channel_span(args.channels)
    wide = f"{first}-{min(depth - 1, first + 8 * width - 1)}"
    n0 = sizes[0]
    cache0 = ["--cache", str(work / f"cache-{n0}")]
    runs = results.setdefault("time_runs", {})  # back to back, so the machine's state is the same for all three
    if "narrow" not in runs:
        runs["narrow"] = importance(args, folders[n0], args.channels, work / f"scan-narrow-{n0}" / "importance.csv",
                                    cache0)
        save()
    if "wide" not in runs:
        runs["wide"] = importance(args, folders[n0], wide, work / f"scan-wide-{n0}" / "importance.csv", cache0)
        save()
    if "cv" not in runs:
        runs["cv"] = importance(args, folders[n0], args.channels, work / f"scan-cv-{n0}" / "importance.csv", cache0,
                                ["--estimator", "control-variate", "--exact-fraction", str(args.fraction)])
        save()
    narrow_run, wide_run, cv_run = runs["narrow"], runs["wide"], runs["cv"]
    wide_channels = channel_span(wide)[2]
    per_channel = (wide_run["scan_seconds"] - narrow_run["scan_seconds"]) / (n0 * (wide_channels - width))
    shared = narrow_run["scan_seconds"] / n0 - width * per_channel
    first_order = cv_run["scan_seconds"] / n0 - shared - args.fraction * width * per_channel
    results["time_model"] = {"images": n0, "shared_s_per_image": shared, "s_per_image_channel": per_channel,
                             "first_order_s_per_image": first_order, "wide_channels": wide,
                             "runs_s": [narrow_run["scan_seconds"], wide_run["scan_seconds"], cv_run["scan_seconds"]]}
    print(f"time model ({n0} photos): shared passes {shared * 1e3:.1f} ms/image, {per_channel * 1e3:.3f} ms per "
          f"image-channel, first-order pass {first_order * 1e3:.1f} ms/image")
    projection = {}
    for workers in (int(w) for w in args.workers.split(",")):
        exact = args.project * (shared + depth * per_channel / workers)
        cv = {f: args.project * (shared + first_order + f * depth * per_channel / workers) for f in (0.05, 0.1, 0.2)}
        projection[workers] = {"exact_h": exact / 3600, **{f"cv_{f}_h": s / 3600 for f, s in cv.items()}}
        print(f"projected {args.project} photos x {depth} channels, {workers} worker(s): exact "
              f"{exact / 3600:.1f} h, control variate F=0.05 {cv[0.05] / 3600:.1f} h, F=0.1 {cv[0.1] / 3600:.1f} h, "
              f"F=0.2 {cv[0.2] / 3600:.1f} h")
    results["projection"] = projection
    save()
    print(markdown(results))


if __name__ == "__main__":
    main()
