"""Benchmark: principal components scored by the reference (one partial_run per direction and batch) vs the
fast direction engine (the layer once per batch, directions stacked), same process, same directions.

Checks the per-image records agree and prints ms per image-direction of both and their ratio. Uses the
local InceptionV1 when ../shared exists (``--model embedded`` for the embedded model).

    .venv/bin/python scripts/bench_directions.py --layer mixed5a --images 32 --directions 64 --reference-directions 4
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from inception_tools.data import load_dataset
from inception_tools.importance.directions import DirectionEngine, ReferenceDirectionEngine, principal_directions
from inception_tools.importance.outcomes import channel_means
from inception_tools.importance.run import new_store
from inception_tools.models import load_model
from inception_tools.surgery import Network

SHARED = Path(__file__).resolve().parents[2] / "shared"


def fill(engine, net, dataset, rows, n_rows, batch_size):
    """Fill a fresh store; return its records for ``rows`` and the seconds the fill took."""
    with tempfile.TemporaryDirectory() as folder:
        store, _ = new_store(folder, net, dataset, 10, batch_size, n_rows)
        start = time.perf_counter()
        engine.fill(store, rows, 0, len(dataset))
        return np.array(store.records[rows]), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="InceptionV1", choices=["InceptionV1", "embedded"])
    parser.add_argument("--layer", default=None, help="default mixed5a (InceptionV1), mixed3a (embedded)")
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--directions", type=int, default=64, help="principal components for the fast engine")
    parser.add_argument("--reference-directions", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    if args.model == "InceptionV1":
        model = load_model("InceptionV1", str(SHARED / "models/inceptionv1/InceptionV1.pb"))
        source, layer = str(SHARED / "data/imagenet-sample"), args.layer or "mixed5a"
    else:
        model = load_model("embedded")
        source, layer = "embedded", args.layer or "mixed3a"
    net = Network(model, layer)
    sample = load_dataset(source, model, limit=max(args.images, args.directions + 1))  # enough images for the PCs
    pcs = principal_directions(net, sample, args.directions, seed=0, batch_size=args.batch_size)
    subset = load_dataset(source, model, limit=args.images)
    means = channel_means(net, subset, args.batch_size)
    rows, ref_rows = list(range(args.directions)), list(range(args.reference_directions))
    reference = ReferenceDirectionEngine(net, subset, pcs.vectors, means, 10, args.batch_size)
    fast = DirectionEngine(net, subset, pcs.vectors, means, 10, args.batch_size)
    fill(fast, net, subset, rows[:2], args.directions, args.batch_size)  # warm-up
    ref_records, t_ref = fill(reference, net, subset, ref_rows, args.directions, args.batch_size)
    fast_records, t_fast = fill(fast, net, subset, rows, args.directions, args.batch_size)
    same = bool((ref_records["outcome"] == fast_records[ref_rows]["outcome"]).all())
    worst = max(float(np.abs(ref_records[f] - fast_records[ref_rows][f]).max()) for f in ("delta_logprob", "kl", "l1"))
    ms_ref = 1000 * t_ref / (len(ref_rows) * len(subset))
    ms_fast = 1000 * t_fast / (len(rows) * len(subset))
    print(f"{model.name} {layer}: {len(rows)} principal components x {len(subset)} images "
          f"(reference on {len(ref_rows)})")
    print(f"reference ms/img-direction {ms_ref:.3f}  fast ms/img-direction {ms_fast:.3f}  ratio {ms_ref / ms_fast:.2f}  "
          f"outcomes identical: {same}  max |diff| {worst:.1e}")
    print(f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
