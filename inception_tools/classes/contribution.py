"""Which unit values count for a class: the contributing-unit definitions of the classes stage.

Three definitions of when a unit's value on an image of class ``k`` counts
(is kept in the statistics) and so when a unit *contributes* to ``k`` (keeps
a non-zero value on at least one of the class's kept images):

- ``active`` (ours, the default): every value is kept; a unit contributes when
  any kept image of the class activates it.
- ``source`` (Teague's, as the source states it): a value is kept only where
  its weighted contribution toward class ``k`` is positive, and zeroed
  otherwise ("it does not contribute to the classification"). For the last
  hidden layer the contribution's sign is that of the weight from the unit to
  ``k``'s output; for earlier layers we carry the sign through by the *summed
  path weight*, the product of the weight matrices from the layer to the
  logits (``W_{l+1} ... W_out``, ReLUs and biases left out), which sums the
  weights of every path from the unit to ``k``'s logit. It depends on the
  weights only, so it needs a chain of dense layers up to the logits
  (:func:`path_weights`).
- ``source-gradient``: the alternative way to carry the sign through, image
  by image: the value is kept where ``activation x d logit_k / d activation``
  (summed over positions for a convolutional channel) is positive, the
  gradient taken through the ReLUs that image switches on. For the last
  hidden layer of a dense model it equals ``source`` (the gradient is the
  weight); it runs on any model.

Under both ``source`` definitions the mean, variance and count of a unit for a
class are those of the zeroed values, as the source compares them.
"""

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import tensor_util

from inception_tools.errors import UserError

tf1 = tf.compat.v1

def _dense_step(nodes, consumers, tensor, logits_name):
    """The weight matrix after ``tensor`` and the name of the next ReLU (None once the logits are reached)."""
    matmuls = [n for n in consumers.get(tensor, ()) if n.op == "MatMul" and n.input[0] == tensor]
    if len(matmuls) != 1 or nodes.get(matmuls[0].input[1], None) is None or nodes[matmuls[0].input[1]].op != "Const":
        raise UserError(f"{tensor} does not feed one dense matrix product: the source definition's path sign "
                        "needs dense layers up to the logits (use definition source-gradient)")
    weight = tensor_util.MakeNdarray(nodes[matmuls[0].input[1]].attr["value"].tensor).astype(np.float64)
    name = matmuls[0].name
    while True:
        after = consumers.get(name, ())
        if len(after) != 1:
            break
        node = after[0]
        if node.op == "BiasAdd":
            name = node.name
            if name == logits_name:
                return weight, None
            continue
        if node.op == "Relu":
            return weight, node.name
        break
    raise UserError(f"{tensor} is not followed by a dense layer and a ReLU on the way to the logits: "
                    "use definition source-gradient")


def path_weights(model, layers):
    """Summed path weights ``{layer: float64 [units, classes]}`` from each of ``layers`` to the logits.

    Args:
        model: a model whose ``layers`` feed a chain of dense layers (MatMul, BiasAdd, ReLU) up to the
            pre-softmax logits, e.g. the embedded MLP; ``flatten`` (its input pixels) works too.
        layers: layer names.

    Returns:
        For each layer the product of the weight matrices from it to the logits; row ``c``, column ``k``
        is the sum over all paths from unit ``c`` to class ``k``'s logit of the product of their weights.
    """
    logits_name = model.logits_name()
    if logits_name is None:
        raise UserError(f"{model.name} has no pre-softmax logits node: use definition source-gradient")
    nodes = {n.name: n for n in model.graph_def.node}
    consumers = {}
    for node in model.graph_def.node:
        for name in node.input:
            consumers.setdefault(name.split(":")[0], []).append(node)
    result = {}
    for layer in layers:
        product, tensor = None, layer
        while tensor is not None:
            weight, tensor = _dense_step(nodes, consumers, tensor, logits_name)
            product = weight if product is None else product @ weight
        result[layer] = product
    return result


def keep_masks(model, layers):
    """``{layer: bool [model.num_classes, units]}``: where the summed path weight to the class is positive."""
    return {layer: (weights > 0).T for layer, weights in path_weights(model, layers).items()}


class TrueClassGradients:
    """Gradients of each image's true-class logit with respect to layers of a Network (ops added once)."""

    def __init__(self, net, layers):
        self.net = net
        self.layers = tuple(layers)
        with net.graph.as_default():
            self.labels = tf1.placeholder(tf.int32, [None], name="classes_true_labels")
            selected = tf.gather(net.logits, self.labels, axis=1, batch_dims=1)
            self.gradients = tf1.gradients(tf.reduce_sum(selected), [net.T(layer) for layer in layers])

    @classmethod
    def of(cls, net, layers):
        """The instance cached on ``net`` for ``layers`` (built on first use)."""
        cached = getattr(net, "_true_class_gradients", None)
        if cached is None or cached.layers != tuple(layers):
            cached = cls(net, layers)
            net._true_class_gradients = cached
        return cached

    def fetch(self, fetches, images, labels):
        """Run ``fetches`` and the gradients on ``images``; returns ``(fetched, gradients)``."""
        feed = dict(self.net.feed(images))
        feed[self.labels] = np.asarray(labels, np.int32)
        return self.net.session.run([list(fetches), self.gradients], feed)


def attribution_signs(acts, grads):
    """bool [n, C]: where ``acts x grads`` summed over positions is positive ([n, C] or [n, h, w, C] inputs)."""
    product = np.asarray(acts, np.float64) * np.asarray(grads, np.float64)
    if product.ndim == 4:
        product = product.sum(axis=(1, 2))
    return product > 0
