"""``inception-tools select``: choose the top and middle groups of channels for the survey."""

import sys

from inception_tools.cli import options
from inception_tools.tables import MEASURES
from inception_tools.importance.summary import score_warning
from inception_tools.selection import choose_groups, group_means
from inception_tools.tables import read_importance, write_groups


def add_parser(subparsers):
    p = subparsers.add_parser(
        "select",
        help="choose the most important and the median-ranked channels, in one blind order",
        description="Write groups.csv: the --top most important channels (ties by channel index) and "
        "the --middle channels centred on the median rank, shuffled together with --seed.",
    )
    p.add_argument("--importance", required=True, help="importance CSV of one layer")
    p.add_argument("--score", choices=list(MEASURES), default="importance",
                   help="measure to rank by (default: importance, the study's top-k count)")
    p.add_argument("--top", type=options.positive_int, default=40, help="size of the top group (default 40)")
    p.add_argument("--middle", type=options.positive_int, default=40, help="size of the middle group (default 40)")
    p.add_argument("--seed", type=options.seed, default=0, help="seed of the blind order (default 0)")
    p.add_argument("--out", required=True, help="groups CSV to write")
    p.set_defaults(func=run)


def run(args):
    from inception_tools import guards, layout

    guards.check_outputs([("groups file", args.out)], [
        ("importance table", args.importance), ("importance summary", layout.summary_json(args.importance)),
        *(("importance outcomes", path) for path in layout.outcome_files(args.importance))], kind=layout.GROUPS_CSV)
    table = read_importance(args.importance, args.score)
    members = choose_groups(table, args.top, args.middle, args.seed)
    warning = score_warning(args.importance, args.score)
    if warning:
        print(warning, file=sys.stderr)
    write_groups(members, args.out)
    for name, (size, mean) in group_means(members).items():
        print(f"{name}: {size} channels, mean {args.score} {mean:.6g}")
    print(f"all {len(table.channels)} channels of {table.layer}: mean {args.score} {table.importance.mean():.6g}")
    print(f"wrote {args.out}")
    return 0
