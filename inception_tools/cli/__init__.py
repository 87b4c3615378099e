"""``inception-tools``: one entry point, one module per subcommand.

Each module in :data:`COMMANDS` defines ``add_parser(subparsers)``, which
registers its subcommand and sets ``func(args) -> int``.
"""

import argparse
import importlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

COMMANDS = [
    "fetch_model",
    "importance",
]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="inception-tools",
        description="Graph surgery and feature studies on frozen image classifiers.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"inception_tools.cli.{name}").add_parser(subparsers)
    return parser


def main(argv=None):
    from inception_tools.errors import UserError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished work is saved; run the same command again to resume", file=sys.stderr)
        return 130
