"""``inception-tools gallery``: the static, importance-ranked gallery of a study."""


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "gallery",
        help="build the static gallery (index, one page per channel, contact sheet) of a study",
        description="Write STUDY/gallery/: index.html ranking every channel by importance, "
        "channel_<cccc>.html pages and contact_sheet.png. Open index.html from disk.",
    )
    parser.add_argument("--study", required=True, metavar="DIR", help="the study folder (with importance.csv)")
    parser.add_argument("--top-n", type=int, default=40, metavar="N", help="channels on the contact sheet (default 40)")
    parser.add_argument("--columns", type=int, default=2, help="columns of the contact sheet (default 2)")
    parser.add_argument("--score", choices=["importance", "delta-logprob", "kl", "l1"], default="importance",
                        help="measure to rank by (default: importance, the study's); the page sorts by each")
    parser.set_defaults(func=run)


def run(args):
    import os
    import sys

    from inception_tools.gallery import build_gallery
    from inception_tools.importance.summary import score_warning

    warning = score_warning(os.path.join(args.study, "importance.csv"), args.score)
    if warning:
        print(warning, file=sys.stderr)
    index = build_gallery(args.study, top_n=args.top_n, columns=args.columns, score=args.score)
    print(f"gallery: {index}")
    return 0
