"""Writing the analysis: ``summary.json`` (all numbers), ``report.md`` (for people, figures
linked) and the short summary the command line prints. Both files are written atomically.
"""

import json
import os

from inception_tools.tables import GROUP_NAMES
from inception_tools.atomic import atomic_open


def number(value, digits=4):
    return "n/a" if value is None else f"{value:.{digits}g}"


def table_row(cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def flagged_line(row):
    action = "kept as is" if row["kept"] else "excluded"
    where = f"{os.path.basename(row['path'])} line {row['line']}"
    problems = "; ".join(row["problems"])
    return f"feature {row['feature']} ({where}, participant {row['participant']}): {problems} -> {action}"


def group_line(name, group):
    return (
        f"{name}: {group['n_features']} features ({group['n_rated']} rated), "
        f"mean importance {number(group['mean_importance'])}, mean I {number(group['mean_I'])}"
    )


def statistics_lines(summary):
    mw, ci = summary["mann_whitney"], summary["bootstrap"]
    return [
        f"Mann-Whitney U (top vs middle, two-sided, {mw['method']}): U = {number(mw['U'], 6)}, p = {number(mw['p'])}",
        f"mean I top - middle: {number(ci['difference'])}, "
        f"{ci['level']:.0%} bootstrap CI [{number(ci['low'])}, {number(ci['high'])}] "
        f"({ci['resamples']} resamples, seed {ci['seed']})",
    ]


def console_lines(summary):
    """The summary the command line prints."""
    lines = [
        f"{summary['model']} {summary['layer']}: mean importance over {summary['n_channels']} channels "
        f"{number(summary['mean_importance'])}",
        *(group_line(name, summary["groups"][name]) for name in GROUP_NAMES),
        *statistics_lines(summary),
    ]
    flagged = summary["flagged_rows"]
    lines.append(f"{len(flagged)} answer row(s) with invalid answers ({summary['invalid_policy']} by policy)")
    lines += [f"  {flagged_line(row)}" for row in flagged]
    return lines


def agreement_section(records):
    if not records:
        return ["Only one participant: no agreement to measure."]
    lines = [
        "For each pair of participants, over the features both rated: Spearman correlation of their "
        "per-feature I (n/a below 3 shared features or when one gave them all the same I) and the "
        "mean absolute difference of I.",
        "",
        "| participants | shared features | Spearman rho | mean abs. difference |",
        "|---|---|---|---|",
    ]
    for r in records:
        pair = " / ".join(r["participants"])
        lines.append(table_row([pair, r["n_shared"], number(r["spearman"]), number(r["mean_abs_difference"])]))
    return lines


def feature_table(features):
    lines = ["| feature | group | rank | importance | raters | I |", "|---|---|---|---|---|---|"]
    for f in features:
        cells = [f["feature_ind"], f["group"], f["rank"], number(f["importance"]), f["n_raters"], number(f["I"])]
        lines.append(table_row(cells))
    return lines


def markdown(summary):
    """The text of report.md."""
    flagged = summary["flagged_rows"]
    policy = (
        "Rows whose answers are all numbers were kept with their values as they are; rows with a "
        "missing or non-numeric answer have no I and were excluded."
        if summary["invalid_policy"] == "kept"
        else "They were excluded (rerun with `--keep-invalid` to keep them)."
    )
    lines = [
        f"# Interpretability against importance: {summary['model']} {summary['layer']}",
        "",
        f"- importance: `{summary['importance_csv']}` ({summary['n_channels']} channels, "
        f"mean importance {number(summary['mean_importance'])})",
        f"- answers: {', '.join(f'`{p}`' for p in summary['answer_csvs'])}: {summary['n_answer_rows']} rows from "
        f"{len(summary['participants'])} participant(s), {summary['n_rows_used']} rows used",
        f"- groups: {summary['groups_source']}",
        "",
        "I = (q1·q3 + q4) / 2 with q = (Q − 1) / 4 for the answers Q1, Q3, Q4 on 1–5. A feature's I is "
        "the mean over its participants (each participant's rows for it averaged first); a group's mean I "
        "is the mean over its rated features.",
        "",
        "## Groups",
        "",
        *(f"- {group_line(name, summary['groups'][name])}" for name in GROUP_NAMES),
        "",
        *(f"{line}  " for line in statistics_lines(summary)),
        "",
        "U counts the (top, middle) pairs of rated features in which the top feature has the larger I, "
        "ties counting one half. The bootstrap resamples each group's per-feature I separately; the "
        "interval is the percentile interval of the resampled differences of group means.",
        "",
        "![I per group](" + summary["figures"]["histogram"] + ")",
        "",
        "![I against importance](" + summary["figures"]["scatter"] + ")",
        "",
        "## Invalid answers",
        "",
        f"{len(flagged)} row(s) had an answer that is not an integer from 1 to 5. {policy}",
        "",
        *(f"- {flagged_line(row)}" for row in flagged),
        "",
        "## Agreement between participants",
        "",
        *agreement_section(summary["agreement"]),
        "",
        "## Features",
        "",
        *feature_table(summary["features"]),
    ]
    return "\n".join(lines) + "\n"


def write(summary, out_dir):
    """Write summary.json and report.md into ``out_dir``."""
    with atomic_open(os.path.join(out_dir, "summary.json")) as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    with atomic_open(os.path.join(out_dir, "report.md"), encoding="utf-8") as f:
        f.write(markdown(summary))
