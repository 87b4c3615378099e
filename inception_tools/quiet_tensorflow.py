"""Keep TensorFlow's C++ start-up lines off stderr, so a failing command prints one line.

TensorFlow 2.21 on a CPU with oneDNN writes ``oneDNN custom operations are
on ...`` (from two of its libraries, each after absl's ``WARNING: All log
messages before absl::InitializeLog() ...``) while it is imported, whatever
``TF_CPP_MIN_LOG_LEVEL`` says. :func:`install` puts a finder first on
``sys.meta_path`` that, for the first ``import tensorflow`` only, points file
descriptor 2 at ``/dev/null`` while the module executes; an exception from
the import is raised as usual, after stderr is back. TensorFlow is not
imported by this module: commands that do not need it stay without it.
"""

import contextlib
import importlib.abc
import importlib.util
import os
import sys


@contextlib.contextmanager
def stderr_descriptor_silenced():
    """Point file descriptor 2 at /dev/null while the block runs (Python's ``sys.stderr`` is flushed first)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            with stderr_descriptor_silenced():
                execute(module)

        spec.loader.exec_module = exec_module
        return spec


def install():
    """Silence the first ``import tensorflow`` of this process (nothing if it was imported already)."""
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())
