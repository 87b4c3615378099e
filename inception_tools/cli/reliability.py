"""``inception-tools reliability``: how far the rankings of a finished scan can be trusted."""

from inception_tools.cli import options


def add_parser(subparsers):
    p = subparsers.add_parser(
        "reliability",
        help="split-half reliability, images needed and group stability of every measure of a scan",
        description="Reads the per-image outcomes kept beside an importance CSV (no network run), prints "
        "the reliability of each measure's ranking and records it in the CSV's .json summary.",
    )
    p.add_argument("--importance", required=True, help="importance CSV of a finished scan")
    p.add_argument("--top", type=options.positive_int, default=None, help="survey group size for the stability figures "
                   "(default: 40, at most a quarter of the channels)")
    options.add_reliability_arguments(p)
    p.set_defaults(func=run)


def run(args):
    from inception_tools.importance.reliability import table
    from inception_tools.importance.summary import update_reliability

    report = update_reliability(args.importance, splits=args.splits, seed=args.seed,
                                resamples=args.resamples, top=args.top)
    print(table(report))
    return 0
