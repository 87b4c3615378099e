"""inception_tools: graph surgery and feature studies on frozen image classifiers.

From a notebook: ``import inception_tools as it``, then ``it.load_model``, ``it.load_dataset`` and one
function per command: ``it.importance``, ``it.reliability``, ``it.select``, ``it.examples``, ``it.render``,
``it.gallery``, ``it.survey_answers``, ``it.analyze``, ``it.basis``, ``it.classes``, ``it.blocks`` (see
:mod:`inception_tools.api`);
``it.show_progress()`` shows progress bars (the library itself prints nothing).
"""

import os
import sys
import types

# Before TensorFlow is first imported anywhere in the package: keep its C++ logs quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from inception_tools import quiet_tensorflow  # noqa: E402

quiet_tensorflow.install()

from inception_tools.api import (analyze, basis, blocks, classes, examples, gallery, importance, load_dataset,  # noqa: E402
                                 load_model, reliability, render, select, survey_answers)
from inception_tools.progress import show_progress  # noqa: E402

__all__ = ["analyze", "basis", "blocks", "classes", "examples", "gallery", "importance", "load_dataset", "load_model",
           "reliability", "render", "select", "show_progress", "survey_answers"]


class _Package(types.ModuleType):
    """Keeps ``it.importance``, ``it.examples``, ``it.basis``... the API functions: importing the submodules
    of the same names would otherwise rebind them (use ``importlib.import_module`` for the modules)."""

    def __setattr__(self, name, value):
        if name in __all__ and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
