"""``inception-tools``: one entry point, one module per subcommand.

Each module in :data:`COMMANDS` defines ``add_parser(subparsers)``, which
registers its subcommand and sets ``func(args) -> int``.
"""

import argparse
import importlib
import os
import sys

COMMANDS = [
    "fetch_model",
    "importance",
    "select",
    "analyze",
    "gallery",
    "survey",
    "run",
    "visualize",
    "examples",
    "blocks",
    "reliability",
    "classes",
    "basis",
    "circuit",
    "tuning",
    "atlas",
    "attribute",
    "sanity",
    "dissect",
    "models",
]

# Subcommands that never touch TensorFlow skip its slow import.
WITHOUT_TENSORFLOW = {"select", "analyze", "gallery", "survey", "reliability"}


def import_tensorflow_quietly():
    """Import TensorFlow with file descriptor 2 closed: its C++ start-up notes
    (oneDNN, CPU features) bypass every log-level setting and would bury a
    one-line error message."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


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

    from tqdm import tqdm

    from inception_tools import progress

    args = build_parser().parse_args(argv)
    progress.log_to_stderr()
    if args.command not in WITHOUT_TENSORFLOW:
        import_tensorflow_quietly()
    try:
        with progress.progress_to(tqdm):
            return args.func(args) or 0
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a folder or file the command could not create, write or read
        where = f" {e.filename}" if e.filename else ""
        print(f"error: cannot access{where}: {e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished work is saved; run the same command again to resume", file=sys.stderr)
        return 130
