"""Progress of long work and the library's messages, shown by whoever calls it.

The library never draws or prints. Long loops open a bar with :func:`bar`
(or wrap an iterable with :func:`iterate`); nothing is shown unless a
progress factory is installed: the command line installs tqdm on stderr
(:func:`show_progress`), a notebook can call ``it.show_progress()`` for
tqdm's notebook-aware bars or install any callable taking tqdm's keyword
arguments and returning an object with ``update(n)`` and ``close()``.
Warnings and notes go to the ``inception_tools`` logger; the command line
prints them on stderr (:func:`log_to_stderr`).
"""

import contextlib
import logging
import sys

_factory = None


class _Silent:
    """A bar that shows nothing (no factory installed, or ``disable``)."""

    def update(self, n=1):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def bar(total=None, desc=None, unit="it", initial=0, disable=False, **options):
    """A progress bar for ``total`` units of work, ``initial`` of them already done (a context manager)."""
    if _factory is None or disable:
        return _Silent()
    return _factory(total=total, desc=desc, unit=unit, initial=initial, **options)


def iterate(iterable, desc=None, unit="it", total=None):
    """Yield from ``iterable``, advancing a bar by one per item."""
    items = list(iterable) if total is None else iterable
    with bar(total=len(items) if total is None else total, desc=desc, unit=unit) as b:
        for item in items:
            yield item
            b.update(1)


def set_progress(factory):
    """Install ``factory`` (tqdm's signature) for every later bar; None shows nothing. Returns the previous one."""
    global _factory
    previous, _factory = _factory, factory
    return previous


def show_progress(enabled=True):
    """Show progress bars from now on: tqdm's, notebook-aware (``tqdm.auto``); ``False`` hides them again."""
    if not enabled:
        return set_progress(None)
    from tqdm.auto import tqdm

    return set_progress(tqdm)


@contextlib.contextmanager
def progress_to(factory):
    """Within the block, bars go to ``factory``."""
    previous = set_progress(factory)
    try:
        yield
    finally:
        set_progress(previous)


class _Stderr(logging.Handler):
    """Messages on the current ``sys.stderr``; warnings as ``warning: ...``."""

    def emit(self, record):
        prefix = "warning: " if record.levelno >= logging.WARNING else ""
        print(prefix + record.getMessage(), file=sys.stderr)


def log_to_stderr(level=logging.INFO):
    """Print the ``inception_tools`` logger's messages on stderr (once, however often it is called)."""
    logger = logging.getLogger("inception_tools")
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        logger.addHandler(_Stderr())
    logger.setLevel(level)
