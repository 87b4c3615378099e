"""Run the installed ``lucid`` package (written for TensorFlow 1) on TensorFlow 2.

Lucid's modules ``import tensorflow as tf`` and then use TF1 names
(``tf.placeholder``, ``tf.Session``, ``tf.get_default_graph``, ...). While
:func:`import_lucid` imports them, ``sys.modules["tensorflow"]`` is
``tf.compat.v1``, so each Lucid module binds ``tf`` to the TF1 API; the real
module is restored right after, and nothing outside Lucid sees the change.
No Lucid source is copied or edited.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

# Lucid modules this project uses, imported once under the TF1 API.
LUCID_MODULES = (
    "lucid.modelzoo.vision_base",
    "lucid.modelzoo.vision_models",
)

_imported = False


def import_lucid():
    """Import the Lucid modules in :data:`LUCID_MODULES` bound to ``tf.compat.v1``."""
    global _imported
    if _imported:
        return
    import importlib

    real = sys.modules["tensorflow"]
    sys.modules["tensorflow"] = tf.compat.v1
    try:
        for name in LUCID_MODULES:
            importlib.import_module(name)
    finally:
        sys.modules["tensorflow"] = real
    _imported = True
