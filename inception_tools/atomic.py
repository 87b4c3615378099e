"""Atomic file writes: a reader sees the old file or the new one, never half of one.

A result that cannot be written (its folder cannot be made, is read-only, or
the result's path is a folder) is one ``UserError``, ``cannot write PATH:
reason``, and whatever was at ``path`` stays as it was.
"""

import contextlib
import os
import tempfile

from inception_tools.errors import UserError


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def cannot_write(path, error):
    """The UserError for an OSError met while writing ``path``."""
    return UserError(f"cannot write {path}: {error.strerror or error}")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; move it into place on success."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise cannot_write(path, IsADirectoryError(21, "it is a folder"))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
        os.close(fd)
    except OSError as e:
        raise cannot_write(path, e) from None
    try:
        yield tmp
        try:
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
            os.replace(tmp, path)
        except OSError as e:
            raise cannot_write(path, e) from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def atomic_open(path, mode="w", **kwargs):
    """Open a temporary file beside ``path``; it replaces ``path`` when the block ends cleanly."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as f:
            yield f
            try:
                f.flush()
                os.fsync(f.fileno())
            except OSError as e:
                raise cannot_write(path, e) from None
