"""Checks every command runs before any work: seeds, and outputs that would destroy inputs.

- :func:`check_seed`: NumPy's generators take seeds 0..2**32-1 (``RandomState``); a
  negative or larger seed is refused before a scan rather than after it.
- :func:`check_outputs`: a file a command is about to write must not be one of its
  inputs (``select --out`` equal to its ``--importance`` would replace the table with the
  groups), nor a study file of another kind (``importance --out study/groups.csv``).
  Paths are compared after resolving links, and by inode when both exist.
"""

import os

from inception_tools import layout
from inception_tools.errors import UserError

SEED_MAX = 2**32 - 1

# Files of a study folder, by name, and what they hold (an output of another kind may not take the name).
STUDY_FILES = {
    layout.IMPORTANCE_CSV: "importance table",
    layout.GROUPS_CSV: "survey groups",
    layout.ANSWERS_CSV: "survey answers",
}


def check_seed(seed, what="seed"):
    """``seed`` as an int; UserError unless it is an integer from 0 to 2**32-1."""
    if isinstance(seed, bool) or not isinstance(seed, int) and not hasattr(seed, "__index__"):
        raise UserError(f"{what} must be an integer from 0 to {SEED_MAX}, not {seed!r}")
    seed = int(seed)
    if not 0 <= seed <= SEED_MAX:
        raise UserError(f"{what} must be an integer from 0 to {SEED_MAX}, not {seed}")
    return seed


def same_file(a, b):
    """True when paths ``a`` and ``b`` name the same file (or would, once written)."""
    a, b = os.fspath(a), os.fspath(b)
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(outputs, inputs=(), kind=None):
    """Refuse, before any work, outputs that would overwrite an input or a study file of another kind.

    Args:
        outputs: ``(what, path)`` pairs of the files the command writes.
        inputs: ``(what, path)`` pairs of the files (or folders) it reads; None paths are skipped.
        kind: the study file name the outputs legitimately are (e.g. ``"groups.csv"`` for
            select), or None; an output named like another study file is refused.

    Raises:
        UserError: ``"<what> PATH is also <input>: ..."`` naming the clash.
    """
    inputs = [(what, os.fspath(path)) for what, path in inputs if path is not None]
    for what, path in outputs:
        if path is None:
            continue
        path = os.fspath(path)
        for source, input_path in inputs:
            if same_file(path, input_path):
                raise UserError(f"the {what} {path} is also the {source}: writing it would destroy the input; "
                                "choose another output path")
        name = os.path.basename(path)
        if name in STUDY_FILES and name != kind and os.path.exists(path):
            raise UserError(f"the {what} {path} would replace the study's {STUDY_FILES[name]}; "
                            "choose another output path")
