"""``inception-tools analyze``: interpretability of the survey's features against importance."""

import sys

from inception_tools.analysis.report import console_lines
from inception_tools.analysis.study import analyze
from inception_tools.cli import options


def add_parser(subparsers):
    p = subparsers.add_parser(
        "analyze",
        help="compare the survey's interpretability of the top and middle groups",
        description="Compute I = (q1*q3 + q4)/2 per answer, compare the groups (Mann-Whitney U, "
        "bootstrap CI), and write report.md, summary.json and figures into --out.",
    )
    p.add_argument("--importance", required=True, help="importance CSV of the layer")
    p.add_argument("--answers", required=True, action="append", help="answer CSV (repeat for several)")
    p.add_argument("--groups", help="groups CSV from `select` (default: rank <= --top is top, else middle)")
    p.add_argument("--top", type=options.positive_int, default=40, help="top group size when no --groups is given (default 40)")
    p.add_argument("--keep-invalid", action="store_true", help="keep numeric answers outside 1-5 as they are")
    p.add_argument("--resamples", type=options.positive_int, default=10_000, help="bootstrap resamples (default 10000)")
    p.add_argument("--seed", type=options.seed, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--out", required=True, help="folder for report.md, summary.json and figures")
    p.set_defaults(func=run)


def run(args):
    summary = analyze(
        args.importance,
        args.answers,
        args.out,
        groups_csv=args.groups,
        top=args.top,
        keep_invalid=args.keep_invalid,
        resamples=args.resamples,
        seed=args.seed,
    )
    for warning in summary["warnings"]:
        print(warning, file=sys.stderr)
    print("\n".join(console_lines(summary)))
    print(f"wrote {args.out}/report.md and summary.json")
    return 0
