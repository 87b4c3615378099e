"""Cascading randomization of a frozen graph's weights (Adebayo et al., 2018), as graph surgery on the GraphDef.

A *block* is one layer with weights on the path to the output: the
classifier (``softmax2``), a mixed block (``mixed4d``: every ``mixed4d_*_w``
and ``mixed4d_*_b``), or a convolution (``conv2d2``). Auxiliary heads
(``head0_*``, ``softmax0``...) are off the path to ``softmax2`` and are never
counted. The cascade goes from the logits down: step k re-initializes the top
k blocks.

Re-initialization replaces the ``value`` of each chosen weight constant with
the initial value the embedded model's trainer draws
(:func:`inception_tools.models.builder.he_normal`: He-normal weights, zero
biases) from a generator seeded by ``(seed, crc32(constant name))``, so a
block gets the same new values at every later step of the cascade and in
every run. Nothing else changes: the nodes, their order, inputs, ops and
every other attribute, and every other constant, are copied byte for byte
(:func:`changed_nodes` checks it and the tests hold it to that).
"""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
import tensorflow as tf

from inception_tools.errors import UserError
from inception_tools.models.builder import he_normal

tf1 = tf.compat.v1

AUXILIARY = ("head", "softmax0", "softmax1")


def blocks(model) -> list:
    """The model's blocks with weights on the path to its output, from the output down."""
    found = [layer for layer in model.layer_depths if not layer.startswith(AUXILIARY)]
    names = {node.name for node in model.graph_def.node if node.op == "Const"}
    return [layer for layer in reversed(found) if block_constants(names, layer)]


def block_constants(names, block: str) -> list:
    """The weight and bias constants among ``names`` that belong to ``block`` (sorted)."""
    return sorted(n for n in names if n.endswith(("_w", "_b")) and (n[:-2] == block or n.startswith(block + "_")))


def cascade(model, depth: int) -> list:
    """The top ``depth`` blocks of :func:`blocks` (UserError when the model has fewer)."""
    found = blocks(model)
    if not 1 <= depth <= len(found):
        raise UserError(f"cascade depth {depth} out of range: {model.name} has {len(found)} blocks with weights "
                        f"({', '.join(found)})")
    return found[:depth]


def new_value(name: str, shape, dtype, seed: int) -> np.ndarray:
    """The seeded re-initial value of the constant ``name``."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    return he_normal(rng, name, list(shape)).astype(dtype)


def randomized(graph_def, chosen: Sequence[str], seed: int):
    """A copy of ``graph_def`` whose constants of the blocks ``chosen`` are re-initialized.

    Args:
        graph_def: a frozen GraphDef.
        chosen: block names (see :func:`blocks`).
        seed: the re-initialization seed.

    Returns:
        ``(graph_def, names)``: the new GraphDef and the names of the constants replaced.
    """
    out = tf1.GraphDef()
    out.CopyFrom(graph_def)
    consts = {node.name: node for node in out.node if node.op == "Const"}
    names = [n for block in chosen for n in block_constants(consts, block)]
    for name in names:
        tensor = consts[name].attr["value"].tensor
        old = tf1.make_ndarray(tensor)
        tensor.CopyFrom(tf1.make_tensor_proto(new_value(name, old.shape, old.dtype, seed)))
    return out, names


def changed_nodes(before, after) -> list:
    """Names of the nodes whose definition differs between two GraphDefs with the same nodes in the same order.

    Raises:
        ValueError: the graphs differ in their node names or order.
    """
    if [n.name for n in before.node] != [n.name for n in after.node]:
        raise ValueError("the graphs have different nodes")
    return [a.name for a, b in zip(before.node, after.node)
            if a.SerializeToString(deterministic=True) != b.SerializeToString(deterministic=True)]
