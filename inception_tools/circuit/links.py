"""Which layers a circuit joins, and which of their channels it shows.

:func:`layer_below` and :func:`layer_above` find a layer's neighbours in the
frozen graph: the nearest declared layers (the model's ``layer_depths``) it
reads from, and the first declared layer, in the model's order, that reads from
it. :func:`strongest` ranks channels by their **summed** expanded kernel (the
sum over the kernel's positions: the net effect of a uniform input), so the
sign says excitatory (> 0) or inhibitory (< 0); the kernel's L2 norm is
reported beside it.
"""

import numpy as np

from inception_tools.circuit.expand import descendants
from inception_tools.errors import UserError


def _nodes(model):
    return {n.name: n for n in model.graph_def.node}


def layer_below(model, layer):
    """The declared layer nearest upstream of ``layer`` (breadth-first through the graph), or UserError."""
    nodes = _nodes(model)
    seen, frontier = {layer}, [layer]
    while frontier:
        following = []
        for name in frontier:
            for i in nodes[name].input:
                parent = i.split(":")[0].lstrip("^")
                if parent in seen or parent not in nodes:
                    continue
                if parent in model.layer_depths:
                    return parent
                seen.add(parent)
                following.append(parent)
        frontier = following
    raise UserError(f"{layer} of {model.name} reads from no earlier layer")


def layer_above(model, layer):
    """The first declared layer (in the model's order) that depends on ``layer``, or None."""
    nodes = _nodes(model)
    after = descendants(nodes, layer) - {layer}
    for name in model.layer_depths:
        if name in after:
            return name
    return None


def strongest(kernels, top):
    """The ``top`` most excitatory and most inhibitory channels of ``kernels`` [kh, kw, channels].

    Returns:
        ``{"positive": channels, "negative": channels}``: int arrays, strongest first, holding only
        channels whose summed kernel has that sign.
    """
    sums = kernels.sum(axis=(0, 1))
    order = np.argsort(-sums, kind="stable")
    positive = [c for c in order[:top] if sums[c] > 0]
    negative = [c for c in order[::-1][:top] if sums[c] < 0]
    return {"positive": np.array(positive, np.int64), "negative": np.array(negative, np.int64)}
