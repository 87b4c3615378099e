"""One analysis run: importance + survey answers -> summary, figures and report.

Group membership comes from a groups CSV (as written by ``select``) when one is given;
every rated feature must then be in it, and every channel in it counts as a member even
if nobody rated it (its I is then undefined). Without a groups file the members are the
rated features: a feature is in the top group when its rank in the importance CSV is at
most ``top`` (rank 1 = most important, ties by channel index), else in the middle group.

A group's mean importance averages all its members; its mean I averages the per-feature
I of its rated members. The overall mean importance averages every channel of the layer.
"""

import os

import numpy as np

from inception_tools.analysis import figures, report, statistics
from inception_tools.analysis.interpretability import by_feature, by_participant, rate
from inception_tools.analysis.answers import drop_repeats, read_answers, unique_files
from inception_tools.guards import check_outputs
from inception_tools.tables import GROUP_NAMES, read_groups, read_importance
from inception_tools.errors import UserError

HISTOGRAM = "interpretability_hist.png"
SCATTER = "interpretability_vs_importance.png"
OUTPUT_FILES = (HISTOGRAM, SCATTER, "report.md", "summary.json")


def groups_by_rank(table, features, top):
    """feature -> "top" when its rank is at most ``top``, else "middle"."""
    if top < 1:
        raise UserError(f"top must be at least 1, not {top}")
    rank = table.rank_of()
    return {f: "top" if rank[f] <= top else "middle" for f in features}


def feature_records(table, groups, per_feature):
    """One record per group member, by group then rank."""
    rank, importance = table.rank_of(), table.importance_of()
    records = []
    for feature in sorted(groups, key=lambda f: (GROUP_NAMES.index(groups[f]), rank[f])):
        value, raters = per_feature.get(feature, (None, 0))
        records.append(
            {
                "feature_ind": feature,
                "group": groups[feature],
                "rank": rank[feature],
                "importance": importance[feature],
                "n_raters": raters,
                "I": value,
            }
        )
    return records


def group_summaries(features):
    summaries = {}
    for name in GROUP_NAMES:
        members = [f for f in features if f["group"] == name]
        rated = [f["I"] for f in members if f["I"] is not None]
        summaries[name] = {
            "n_features": len(members),
            "n_rated": len(rated),
            "mean_importance": statistics.group_mean([f["importance"] for f in members]),
            "mean_I": statistics.group_mean(rated),
        }
    return summaries


def group_values(features, name):
    values = np.array([f["I"] for f in features if f["group"] == name and f["I"] is not None])
    if not len(values):
        raise UserError(f"no feature of the {name} group has a usable rating; cannot compare the groups")
    return values


def summarize(importance_csv, answer_csvs, groups_csv=None, top=40, keep_invalid=False, resamples=10_000, seed=0):
    """The survey's analysis, in memory: per-feature I, the groups' means, tests, intervals and agreement.

    Args:
        importance_csv: the layer's importance CSV; answer_csvs: the answer CSVs.
        groups_csv: the groups of ``select`` (default: rank <= ``top`` is top, else middle).
        keep_invalid: keep numeric answers outside 1-5 as they are (default: exclude them).
        resamples, seed: the bootstrap interval of the groups' difference.

    Returns:
        The summary (what ``summary.json`` holds).
    """
    if resamples < 1:
        raise UserError(f"resamples must be at least 1, not {resamples}")
    table = read_importance(importance_csv)
    answer_csvs, warnings = unique_files(answer_csvs)
    answers, repeated = drop_repeats(read_answers(answer_csvs, table))
    warnings += repeated
    ratings, flagged = rate(answers, keep_invalid)
    per_participant = by_participant(ratings)
    rated = {a.feature for a in answers}
    if groups_csv is not None:
        groups = read_groups(groups_csv, table).group_of()
        outside = sorted(rated - set(groups))
        if outside:
            raise UserError(f"feature {outside[0]} is rated but not in {groups_csv}")
    else:
        groups = groups_by_rank(table, rated, top)
    features = feature_records(table, groups, by_feature(per_participant))
    top_values, middle_values = group_values(features, "top"), group_values(features, "middle")
    summary = {
        "model": table.model,
        "layer": table.layer,
        "importance_csv": table.path,
        "answer_csvs": [os.fspath(p) for p in answer_csvs],
        "groups_source": os.fspath(groups_csv) if groups_csv is not None else f"rank <= {top} is top",
        "participants": sorted({a.participant for a in answers}),
        "n_answer_rows": len(answers),
        "warnings": warnings,
        "n_rows_used": len(ratings),
        "invalid_policy": "kept" if keep_invalid else "excluded",
        "flagged_rows": [vars(row) | {"problems": list(row.problems)} for row in flagged],
        "n_channels": len(table.channels),
        "mean_importance": float(table.importance.mean()),
        "groups": group_summaries(features),
        "mann_whitney": statistics.mann_whitney(top_values, middle_values),
        "bootstrap": statistics.bootstrap_difference(top_values, middle_values, resamples, seed),
        "agreement": statistics.agreement(per_participant),
        "features": features,
        "figures": {"histogram": HISTOGRAM, "scatter": SCATTER},
    }
    return summary


def analyze(importance_csv, answer_csvs, out_dir, groups_csv=None, top=40, keep_invalid=False, resamples=10_000,
            seed=0):
    """:func:`summarize`, then write its figures, report.md and summary.json into ``out_dir``; return the summary."""
    check_outputs([("analysis output", os.path.join(out_dir, name)) for name in OUTPUT_FILES],
                  [("importance table", importance_csv), ("groups file", groups_csv),
                   *(("answers file", path) for path in answer_csvs)])
    summary = summarize(importance_csv, answer_csvs, groups_csv, top, keep_invalid, resamples, seed)
    features = summary["features"]
    figures.interpretability_histogram(features, os.path.join(out_dir, HISTOGRAM))
    figures.interpretability_scatter(features, os.path.join(out_dir, SCATTER))
    report.write(summary, out_dir)
    return summary
