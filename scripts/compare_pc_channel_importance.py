"""Channels and principal components of one layer on one scale: two importance CSVs, side by side.

Reads an ``importance`` table of channels and one of ``importance --basis pca`` (same model, layer
and images) and prints, per measure (harm = larger is more important; delta log p is negated): the
median and maximum of each, how many PCs fall in the pooled top n, how many beat the best channel,
a Mann-Whitney p-value of PCs vs channels, and Spearman(variance, KL) among the PCs.

    .venv/bin/python scripts/compare_pc_channel_importance.py CHANNELS.csv PCS.csv [--top 64]
"""

import argparse

import numpy as np
from scipy.stats import mannwhitneyu, spearmanr

from inception_tools.tables import read_rows

MEASURES = (("importance", 1), ("mean_delta_logprob", -1), ("mean_kl", 1), ("mean_abs_prob_change", 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("channels")
    parser.add_argument("pcs")
    parser.add_argument("--top", type=int, default=64)
    args = parser.parse_args()
    channels = [row for _, row in read_rows(args.channels, ("feature_ind",))]
    pcs = [row for _, row in read_rows(args.pcs, ("feature_ind", "variance"))]
    for column, sign in MEASURES:
        a = sign * np.array([float(r[column]) for r in channels])
        b = sign * np.array([float(r[column]) for r in pcs])
        pooled_top = np.argsort(-np.concatenate([a, b]), kind="stable")[:args.top]
        print(f"{column}{' (negated)' if sign < 0 else ''}: channels median {np.median(a):.4g}, max {a.max():.4g} "
              f"(channel {channels[a.argmax()]['feature_ind']}); PCs median {np.median(b):.4g}, max {b.max():.4g} "
              f"(PC {int(pcs[b.argmax()]['feature_ind']) + 1}); PCs in the pooled top {args.top}: "
              f"{int((pooled_top >= len(a)).sum())} of {len(b)}; PCs above the best channel: {int((b > a.max()).sum())}; "
              f"Mann-Whitney p {mannwhitneyu(b, a).pvalue:.2g}")
    rho = spearmanr([float(r["variance"]) for r in pcs], [float(r["mean_kl"]) for r in pcs])
    print(f"PCs: Spearman(variance, mean KL) {rho.correlation:.2f} (p {rho.pvalue:.2g})")


if __name__ == "__main__":
    main()
