"""Reading and checking frozen GraphDef files.

A model file is accepted when it parses as a ``GraphDef`` and holds every node
a run needs (input, output, the layers asked for). A truncated download, an
HTML error page or some other model's file fails one of those checks and is
reported in one line; nodes a run does not need (InceptionV1's auxiliary heads
``nn0``/``softmax0``/``nn1``/``softmax1``, say) may be missing.
"""

import os

import tensorflow as tf
from google.protobuf.message import DecodeError

from inception_tools.errors import UserError


def read_graphdef(path):
    """Parse ``path`` as a frozen GraphDef, or raise UserError saying why not."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise UserError(f"model file not found: {path}")
    with open(path, "rb") as f:
        data = f.read()
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except (DecodeError, RuntimeWarning, ValueError) as e:
        raise UserError(f"{path} is not a frozen TensorFlow GraphDef (truncated or wrong file?): {e}") from None
    if not graph_def.node:
        raise UserError(f"{path} holds no graph nodes (empty, truncated or wrong file?)")
    for node in graph_def.node:
        node.device = ""
    return graph_def


def node_names(graph_def):
    return {node.name for node in graph_def.node}


def require_nodes(graph_def, names, path):
    """Raise UserError naming the first nodes of ``names`` missing from ``graph_def``."""
    present = node_names(graph_def)
    missing = [name for name in names if name not in present]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise UserError(f"{path} lacks nodes this run needs ({shown}): truncated or wrong model file?")
