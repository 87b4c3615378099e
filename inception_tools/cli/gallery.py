"""``inception-tools gallery``: the static, importance-ranked gallery of a study."""

from inception_tools.cli import options


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "gallery",
        help="build the static gallery (index, one page per channel, contact sheet) of a study",
        description="Write STUDY/gallery/: index.html ranking every channel by importance, "
        "channel_<cccc>.html pages and contact_sheet.png. Open index.html from disk.",
    )
    parser.add_argument("--study", required=True, metavar="DIR", help="the study folder (with importance.csv)")
    parser.add_argument("--top-n", type=options.positive_int, default=40, metavar="N", help="channels on the contact sheet (default 40)")
    parser.add_argument("--columns", type=options.positive_int, default=2, help="columns of the contact sheet (default 2)")
    parser.set_defaults(func=run)


def run(args):
    from inception_tools.gallery import build_gallery

    index = build_gallery(args.study, top_n=args.top_n, columns=args.columns)
    print(f"gallery: {index}")
    return 0
