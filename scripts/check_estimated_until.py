"""The control-variate estimator grown until reliable, and over principal components, against exact scans, in one run.

Part 1, until reliable: an exact scan (images in a seeded shuffled order, ``--chunk`` at a time) and a
control-variate scan (the first-order pass on every image, the exact subsample grown from
``--exact-fraction`` by ``--chunk`` images) each stop once the ``--score`` measure's projected split-half
reliability reaches ``--until``: the images (exact images) each used, their wall times, and the Spearman
rho of the two rankings.

Part 2, principal components: the top ``--components`` PCs of the layer scored exactly, by the control
variate at ``--pca-fraction`` and by the first-order pass alone: Spearman rho with the exact scan per
measure, the median per-component correlation r of control and exact outcomes, and the wall times.

    .venv/bin/python scripts/check_estimated_until.py --model InceptionV1 \\
        --model-path ../shared/models/inceptionv1/InceptionV1.pb --layer mixed5a --data ../shared/data/imagenet-sample \\
        --limit 400 --score l1 --until 0.6 --out outputs/until-check
"""

import argparse
import json
import os
import time

import numpy as np
from scipy.stats import spearmanr

from inception_tools.data import load_dataset
from inception_tools.importance import ImportanceConfig, score_layer
from inception_tools.models import load_model
from inception_tools.surgery import Network
from inception_tools.tables import MEASURES


def timed(model, layer, dataset, path, **settings):
    """One scan in a fresh network: ``(result, seconds)``."""
    net = Network(model, layer)
    started = time.time()
    try:
        result = score_layer(net, dataset, ImportanceConfig(**settings), path, report=lambda line: None)
    finally:
        net.close()
    return result, time.time() - started


def until_part(args, model, dataset, common):
    until = dict(common, until=args.until, score=args.score, chunk=args.chunk)
    exact, exact_s = timed(model, args.layer, dataset, os.path.join(args.out, "until-exact.csv"), **until)
    estimate, estimate_s = timed(model, args.layer, dataset, os.path.join(args.out, "until-cv.csv"),
                                 estimator="control-variate", exact_fraction=args.exact_fraction, **until)
    column = MEASURES[args.score].column
    rho = float(spearmanr(exact.column(column), estimate.column(column)).statistic)
    last_exact = exact.summary["until_reliable"]["trajectory"][-1]
    last_cv = estimate.summary["until_reliable"]["trajectory"][-1]
    result = {"exact": {"images": last_exact["images"], "projected": last_exact["projected"], "seconds": exact_s},
              "control_variate": {"images": len(dataset), "exact_images": last_cv["exact_images"],
                                  "projected": last_cv["projected"], "seconds": estimate_s},
              "spearman_between": rho}
    print(f"until {args.score} >= {args.until}: exact {last_exact['images']} images, projected "
          f"{last_exact['projected']:.3f}, {exact_s:.0f} s; control variate {last_cv['exact_images']} exact of "
          f"{len(dataset)} images, projected {last_cv['projected']:.3f}, {estimate_s:.0f} s; "
          f"Spearman between the two rankings {rho:.3f}")
    return result


def pca_part(args, model, dataset, common):
    basis = dict(common, basis="pca", components=args.components)
    runs = {"exact": {}, "control-variate": dict(estimator="control-variate", exact_fraction=args.pca_fraction),
            "first-order": dict(estimator="first-order")}
    results, seconds = {}, {}
    for name, extra in runs.items():
        results[name], seconds[name] = timed(model, args.layer, dataset, os.path.join(args.out, f"pca-{name}.csv"),
                                             **basis, **extra)
    out = {"seconds": seconds, "measures": {}}
    for measure in MEASURES.values():
        truth = results["exact"].column(measure.column)
        entry = {name: float(spearmanr(results[name].column(measure.column), truth).statistic)
                 for name in ("control-variate", "first-order")}
        entry["median_r"] = results["control-variate"].summary["estimator"]["median_r"][measure.name]
        out["measures"][measure.name] = entry
        print(f"PCs 1-{args.components} {measure.name:14} Spearman with exact: control variate "
              f"(F={args.pca_fraction}) {entry['control-variate']:.3f}, first order {entry['first-order']:.3f}; "
              f"median r {entry['median_r']:.3f}")
    print("PCA scan seconds: " + ", ".join(f"{name} {s:.0f}" for name, s in seconds.items()))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--model-path")
    parser.add_argument("--layer", default="mixed3a")
    parser.add_argument("--data", default="embedded")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--score", default="l1", choices=list(MEASURES))
    parser.add_argument("--until", type=float, default=0.9)
    parser.add_argument("--chunk", type=int, default=25)
    parser.add_argument("--exact-fraction", type=float, default=0.05)
    parser.add_argument("--components", type=int, default=64)
    parser.add_argument("--pca-fraction", type=float, default=0.2)
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--skip", choices=["until", "pca"])
    parser.add_argument("--out", default="outputs/until-check")
    args = parser.parse_args()

    model = load_model(args.model, args.model_path, layers=[args.layer])
    dataset = load_dataset(args.data, model, limit=args.limit)
    os.makedirs(args.out, exist_ok=True)
    common = dict(batch_size=args.batch_size, resamples=args.resamples)
    result = {"model": model.name, "layer": args.layer, "n_images": len(dataset), "settings": vars(args)}
    if args.skip != "until":
        result["until"] = until_part(args, model, dataset, common)
    if args.skip != "pca":
        result["pca"] = pca_part(args, model, dataset, common)
    with open(os.path.join(args.out, "check.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
