"""Benchmark: basis ablation, naive (a partial_run per variant) vs batched engine, same process.

Both engines run the same variants (PCs and neurons, top-k and bottom-k on a
log grid of k) on the same images; the script checks that their top-1 and
top-k outcomes are identical and their log-probabilities agree, and prints
ms per image-variant, the ratio and peak memory.

    .venv/bin/python scripts/bench_basis.py --model embedded --layer mixed3a --images 200
    .venv/bin/python scripts/bench_basis.py --model InceptionV1 --layer mixed4a --images 16
"""

import argparse
import resource
import time
from pathlib import Path

import numpy as np

from inception_tools.basis import ablation
from inception_tools.activations.pca import neuron_basis, pca_basis
from inception_tools.activations.sample import sample_activations
from inception_tools.basis.steps import spread
from inception_tools.data import load_dataset
from inception_tools.models import load_model
from inception_tools.surgery import Network

SHARED = Path(__file__).resolve().parents[2] / "shared"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--layer", default="mixed3a")
    parser.add_argument("--images", type=int, default=200, help="images the engines are timed on")
    parser.add_argument("--sample-images", type=int, default=None, help="images the PCA is sampled from (default all)")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    if args.model == "embedded":
        model = load_model("embedded")
        data = load_dataset("embedded", model, limit=args.sample_images)
    else:
        model = load_model(args.model, str(SHARED / "models/inceptionv1/InceptionV1.pb"), layers=[args.layer])
        data = load_dataset(str(SHARED / "data/imagenet-sample"), model, limit=args.sample_images)
    net = Network(model, args.layer)
    sample = sample_activations(net, data, seed=0)
    bases = {"pca": pca_basis(sample.layer), "neuron": neuron_basis(sample.layer)}
    variants = ablation.make_variants(bases, ablation.log_grid(bases["pca"].dim))
    images = spread(data, args.images)
    top_k = model.default_top_k
    timings, results = {}, {}
    for name, engine in (("naive", ablation.naive_outcomes), ("batched", ablation.batched_outcomes)):
        started = time.perf_counter()
        results[name] = engine(net, images, ablation.Ablator(bases, variants, sample.mean), top_k, args.batch_size)
        timings[name] = (time.perf_counter() - started) * 1e3 / (len(variants) * len(images))
    naive, batched = results["naive"], results["batched"]
    same = (naive.top1 == batched.top1).all() and (naive.topk == batched.topk).all()
    dlogp = float(np.abs(naive.logprob - batched.logprob).max())
    print(f"{model.name} {args.layer}: d = {bases['pca'].dim}, {len(variants)} variants x {len(images)} images")
    print(f"naive ms/img-variant {timings['naive']:.3f}  batched ms/img-variant {timings['batched']:.3f}  "
          f"ratio {timings['naive'] / timings['batched']:.2f}  outcomes identical: {same}  max |dlogp| {dlogp:.1e}")
    print(f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
