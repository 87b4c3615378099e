"""Control-variate importance against an all-exact scan, per measure and exact fraction, in one run.

Runs (or reuses) the all-exact scan of every channel of a layer, then the first-order pass on the same
images, and for each exact fraction F and seed: the control-variate means from the exact outcomes of
a seeded F-subsample plus the first-order controls on all images, against the all-exact means
(Spearman rho, top-40 overlap); the same subsample without the control; the first-order means alone.
Also: split-half reliability and images needed for 0.9, exact vs control-variate; the cost per image
of the first-order pass and of the exact pass (timed in this run, on the same images) and the
projected time of a 50,000-image study at each F.

    .venv/bin/python scripts/check_control_variate.py --model InceptionV1 --model-path ../shared/models/inceptionv1/InceptionV1.pb \
        --layer mixed5a --data ../shared/data/imagenet-sample --out outputs/cv-check
"""

import argparse
import json
import os
import time

import numpy as np
from scipy.stats import spearmanr

from inception_tools.data import load_dataset
from inception_tools.importance import ImportanceConfig, OutcomeStore, score_layer
from inception_tools.importance import control_variate as cv
from inception_tools.importance import reliability as rel
from inception_tools.importance.first_order import first_order_pass
from inception_tools.importance.measures import contributions
from inception_tools.importance.outcomes import baseline, channel_means
from inception_tools.models import load_model
from inception_tools.surgery import Network
from inception_tools.tables import MEASURES

FRACTIONS = (0.05, 0.1, 0.2)
STUDY_IMAGES = 50_000


def overlap(a, b, top=40):
    return len(set(np.argsort(-a, kind="stable")[:top]) & set(np.argsort(-b, kind="stable")[:top])) / top


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--model-path")
    parser.add_argument("--layer", default="mixed3a")
    parser.add_argument("--data", default="embedded")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default="outputs/cv-check")
    args = parser.parse_args()

    model = load_model(args.model, args.model_path, layers=[args.layer])
    dataset = load_dataset(args.data, model, limit=args.limit)
    csv_path = os.path.join(args.out, "exact.csv")
    net = Network(model, args.layer)
    if not os.path.isfile(csv_path):
        score_layer(net, dataset, ImportanceConfig(batch_size=args.batch_size), csv_path, report=print)
    store = OutcomeStore.open(csv_path)
    n = store.n_images
    exact = {name: contributions(store, name) for name in MEASURES}

    started = time.time()
    values = channel_means(net, dataset, args.batch_size)
    base = baseline(net, dataset, 1, args.batch_size)
    control = first_order_pass(net, dataset, base.real_logp, values, args.batch_size)
    first_seconds = time.time() - started
    probe = dataset.reordered(np.arange(min(50, n)))
    started = time.time()
    score_layer(net, probe, ImportanceConfig(batch_size=args.batch_size), os.path.join(args.out, "probe.csv"),
                report=lambda line: None)
    exact_per_image = (time.time() - started) / len(probe)
    first_per_image = first_seconds / n

    result = {"model": model.name, "layer": args.layer, "n_images": n, "channels": len(store.channels),
              "seconds_per_image": {"first_order": first_per_image, "exact": exact_per_image,
                                    "ratio": exact_per_image / first_per_image}, "measures": {}}
    print(f"{model.name} {args.layer}: {len(store.channels)} channels, {n} images; per image: first order "
          f"{first_per_image * 1000:.1f} ms, exact {exact_per_image * 1000:.1f} ms "
          f"(ratio {exact_per_image / first_per_image:.1f})")
    exact_reliability, _ = rel.assess(store, resamples=10)
    for name in MEASURES:
        truth = exact[name].mean(axis=1)
        first_rho = float(spearmanr(control[name].mean(axis=1), truth).statistic)
        entry = {"first_order_spearman": first_rho, "first_order_top40": overlap(control[name].mean(axis=1), truth),
                 "exact_split_half": exact_reliability["measures"][name]["rho"],
                 "exact_images_for_0.9": exact_reliability["measures"][name]["images_for_0.9"], "fractions": {}}
        for fraction in FRACTIONS:
            rows = []
            for seed in range(args.seeds):
                columns = cv.subsample(n, fraction, seed)
                fit = cv.fit(exact[name][:, columns], control[name], columns)
                alone = exact[name][:, columns].mean(axis=1)
                rows.append((spearmanr(fit["mean"], truth).statistic, spearmanr(alone, truth).statistic,
                             overlap(fit["mean"], truth), overlap(alone, truth), np.nanmedian(fit["r"])))
            rows = np.nan_to_num(np.array(rows, np.float64))
            columns = cv.subsample(n, fraction, 0)
            split = cv.Estimator(exact[name][:, columns], control[name], columns).split_half(splits=10)
            hours = STUDY_IMAGES * (first_per_image + fraction * exact_per_image) / 3600
            entry["fractions"][str(fraction)] = {
                "spearman_cv": float(rows[:, 0].mean()), "spearman_cv_sd": float(rows[:, 0].std()),
                "spearman_subsample_only": float(rows[:, 1].mean()), "top40_cv": float(rows[:, 2].mean()),
                "top40_subsample_only": float(rows[:, 3].mean()), "median_r": float(rows[:, 4].mean()),
                "cv_split_half": split["rho"], "cv_images_for_0.9": split["images_for_0.9"],
                "hours_for_50000": hours}
            print(f"{name:14} F={fraction:<5} rho vs all-exact: CV {rows[:, 0].mean():.3f} (sd {rows[:, 0].std():.3f}), "
                  f"subsample only {rows[:, 1].mean():.3f}; top-40 {rows[:, 2].mean():.2f} vs {rows[:, 3].mean():.2f}; "
                  f"median r {rows[:, 4].mean():.3f}; split-half CV {split['rho']:.2f} "
                  f"(exact {entry['exact_split_half']:.2f}); 50,000 images: {hours:.1f} h")
        print(f"{name:14} first order alone: rho {first_rho:.3f}, top-40 {entry['first_order_top40']:.2f}; "
              f"all-exact {STUDY_IMAGES:,} images: {STUDY_IMAGES * exact_per_image / 3600:.1f} h")
        result["measures"][name] = entry
    net.close()
    with open(os.path.join(args.out, "check.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
