"""Write docs/replications.md: every published figure the toolkit replicates beside what it measures.

Usage::

    python scripts/replications.py                 # quick mode: embedded models only (about a minute)
    python scripts/replications.py --full          # + InceptionV1 and the photos of ../shared
    python scripts/replications.py --full-only blocks,dey   # full mode for some sources only
    python scripts/replications.py --out /tmp/r.md --only teague,dey

See :mod:`inception_tools.replications`.
"""

import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run InceptionV1 on the shared model and photos")
    parser.add_argument("--full-only", default=None, help="full mode for these sources only, e.g. blocks,dey")
    parser.add_argument("--shared", default=os.path.join(REPO, "..", "shared"), help="the shared folder (../shared)")
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "replications.md"), help="the page to write")
    parser.add_argument("--work", default=None, help="folder for the stages' files (default: a temporary one)")
    parser.add_argument("--only", default=None, help="comma-separated sources: teague,terekhov,dey,blocks")
    args = parser.parse_args(argv)
    from inception_tools.errors import UserError
    from inception_tools.replications.run import SOURCES, replicate

    only = tuple(s.strip() for s in args.only.split(",")) if args.only else SOURCES
    full = True if args.full else tuple(s.strip() for s in args.full_only.split(",")) if args.full_only else ()
    if full and not os.path.isdir(os.path.join(args.shared, "models", "inceptionv1")):
        print(f"error: --full needs the shared model under {args.shared}", file=sys.stderr)
        return 2
    try:
        sections = replicate(args.out, full, os.path.abspath(args.shared), args.work, only)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({len(sections)} sources)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
