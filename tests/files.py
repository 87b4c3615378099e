"""Comparing the files two runs wrote."""

import os


def relative_files(root):
    """Every file under ``root``, as sorted paths relative to it."""
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


def assert_same_bytes(one, other):
    """``other`` holds every file of ``one`` with the same bytes; returns the relative paths."""
    names = relative_files(one)
    for name in names:
        with open(os.path.join(one, name), "rb") as a, open(os.path.join(other, name), "rb") as b:
            assert a.read() == b.read(), name
    return names
