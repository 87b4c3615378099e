"""Check the reliability projection on independent data: embedded model, test digits vs training digits.

From the 1000 test digits, the split-half reliability (500 vs 500 images) is
projected by Spearman-Brown to 2000 and 4000 images. On the 4000 training
digits, the reliability at 2000 images is measured directly (two disjoint
2000-image halves, 20 seeded splits) and, by Spearman-Brown from it, at 4000.
The training digits are not exchangeable with the test digits (the model was
fitted to them), so the same projection is also made from 1000 seeded random
training digits: that isolates the estimator from the change of data.
Prints one row per measure.

    .venv/bin/python scripts/check_reliability_projection.py [--layer mixed3a] [--out outputs/reliability-check]
"""

import argparse
import os

import numpy as np

from inception_tools.data import load_dataset
from inception_tools.importance import ImportanceConfig, OutcomeStore, score_layer
from inception_tools.importance import reliability as rel
from inception_tools.importance.measures import contributions
from inception_tools.tables import MEASURES
from inception_tools.models import load_model
from inception_tools.surgery import Network


def outcomes(model, layer, data, out):
    csv_path = os.path.join(out, data, "importance.csv")
    if not os.path.isfile(csv_path):
        dataset = load_dataset(data, model)
        score_layer(Network(model, layer), dataset, ImportanceConfig(batch_size=250), csv_path, report=print)
    return OutcomeStore.open(csv_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", default="mixed3a")
    parser.add_argument("--out", default="outputs/reliability-check")
    parser.add_argument("--splits", type=int, default=20)
    args = parser.parse_args()
    model = load_model("embedded", layers=[args.layer])
    test = outcomes(model, args.layer, "embedded", args.out)
    train = outcomes(model, args.layer, "embedded-train", args.out)
    print(f"embedded {args.layer}, {len(test.channels)} channels; test {test.n_images} digits, "
          f"train {train.n_images} digits; {args.splits} seeded splits")
    subset = np.random.default_rng(0).permutation(train.n_images)[:test.n_images]
    print(f"{'':<14} {'---- from 1000 test digits ----':>33} {'- 1000 train digits -':>22} "
          f"{'--- measured on 4000 train ---':>32}")
    print(f"{'measure':<14} {'rho(500)':>9} {'proj 2000':>10} {'proj 4000':>10} {'rho(500)':>10} {'proj 2000':>10} "
          f"{'rho(2000)':>10} {'SB 4000':>10}")
    for name in MEASURES:
        train_contrib = contributions(train, name)
        half_test = rel.split_half(contributions(test, name), args.splits)["rho"]
        half_sub = rel.split_half(train_contrib[:, subset], args.splits)["rho"]
        half_train = rel.split_half(train_contrib, args.splits)["rho"]
        print(f"{name:<14} {half_test:>9.3f} {rel.spearman_brown(half_test, 4):>10.3f} "
              f"{rel.spearman_brown(half_test, 8):>10.3f} {half_sub:>10.3f} {rel.spearman_brown(half_sub, 4):>10.3f} "
              f"{half_train:>10.3f} {rel.spearman_brown(half_train, 2):>10.3f}")


if __name__ == "__main__":
    main()
