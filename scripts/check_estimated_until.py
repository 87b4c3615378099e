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
        --limit 400 --score l1 --until 0.9 --chunk 50 --out outputs/until-check

Part 3, with ``--reference`` (an all-exact scan of the same images, e.g. the one
``scripts/check_control_variate.py`` writes): no scans; the first-order pass once, then both
until-reliable rules replayed on the all-exact outcomes for ``--seeds`` seeds, each rule's stop and its
ranking's agreement with the all-exact one, and the share of channels whose all-exact mean lies in the
control variate's 95% interval.
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


def reference_part(args, model, dataset):
    """Until-reliable trajectories replayed on an all-exact scan of the same images (``--reference``), several
    seeds: where each rule stops, and how its ranking agrees with the all-exact one (the truth here)."""
    from inception_tools.importance import OutcomeStore
    from inception_tools.importance import control_variate as cv
    from inception_tools.importance import reliability as rel
    from inception_tools.importance.first_order import first_order_pass
    from inception_tools.importance.measures import contributions
    from inception_tools.importance.outcomes import baseline, channel_means

    store = OutcomeStore.open(args.reference)
    if list(store.ids) != list(dataset.ids):
        raise SystemExit(f"{args.reference} holds other images than --data/--limit")
    cache = os.path.join(args.out, "reference-controls.npz")
    if not os.path.isfile(cache):
        net = Network(model, args.layer)
        started = time.time()
        values = channel_means(net, dataset, args.batch_size)
        base = baseline(net, dataset, 1, args.batch_size)
        controls = first_order_pass(net, dataset, base.real_logp, values, args.batch_size)
        net.close()
        np.savez(cache, seconds=time.time() - started, **{k.replace("-", "_"): v for k, v in controls.items()})
    saved = np.load(cache)
    y, x, n = contributions(store, args.score), saved[args.score.replace("-", "_")], store.n_images
    truth = y.mean(axis=1)
    runs = []
    for seed in range(args.seeds):
        order = cv.nested_order(n, seed)
        for stop in list(range(cv.subsample_size(n, args.exact_fraction), n, args.chunk)) + [n]:
            estimator = cv.Estimator(y[:, order[:stop]], x, order[:stop])
            projected = estimator.split_half(20, 0)["spearman_brown"]
            if projected >= args.until:
                break
        draws = estimator.resampled(args.resamples, seed)
        lo, hi = np.percentile(draws, 2.5, axis=0), np.percentile(draws, 97.5, axis=0)
        shuffled = np.random.default_rng(seed).permutation(n)
        for exact_stop in list(range(min(args.chunk, n), n, args.chunk)) + [n]:
            exact_projected = rel.split_half(y[:, shuffled[:exact_stop]], 20)["spearman_brown"]
            if exact_projected >= args.until:
                break
        runs.append({"seed": seed, "cv_exact_images": stop, "cv_projected": projected,
                     "cv_spearman_with_all_exact": float(spearmanr(estimator.means(), truth).statistic),
                     "cv_interval_covers": float(np.mean((lo <= truth) & (truth <= hi))),
                     "exact_images": exact_stop, "exact_projected": exact_projected,
                     "exact_spearman_with_all_exact": float(spearmanr(y[:, shuffled[:exact_stop]].mean(axis=1),
                                                                      truth).statistic)})
        r = runs[-1]
        print(f"seed {seed}: {args.score} >= {args.until}: control variate stops at {stop} exact of {n} (projected "
              f"{projected:.3f}, Spearman with all-exact {r['cv_spearman_with_all_exact']:.3f}, 95% interval covers "
              f"the all-exact mean for {r['cv_interval_covers']:.0%} of channels); exact stops at {exact_stop} images "
              f"(projected {exact_projected:.3f}, Spearman {r['exact_spearman_with_all_exact']:.3f})")
    return {"first_order_seconds": float(saved["seconds"]), "runs": runs}


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
    parser.add_argument("--skip", choices=["until", "pca"], action="append", default=[])
    parser.add_argument("--reference", help="an all-exact importance CSV of the same images: replay until-reliable "
                                            "on its outcomes instead of running scans")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", default="outputs/until-check")
    args = parser.parse_args()

    model = load_model(args.model, args.model_path, layers=[args.layer])
    dataset = load_dataset(args.data, model, limit=args.limit)
    os.makedirs(args.out, exist_ok=True)
    common = dict(batch_size=args.batch_size, resamples=args.resamples)
    result = {"model": model.name, "layer": args.layer, "n_images": len(dataset), "settings": vars(args)}
    if args.reference:
        result["reference"] = reference_part(args, model, dataset)
    if "until" not in args.skip and not args.reference:
        result["until"] = until_part(args, model, dataset, common)
    if "pca" not in args.skip and not args.reference:
        result["pca"] = pca_part(args, model, dataset, common)
    name = f"reference-{args.score}-{args.until}.json" if args.reference else "check.json"
    with open(os.path.join(args.out, name), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
