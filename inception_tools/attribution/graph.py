"""A model imported for attribution: images in, one class score per image, its gradients.

Every saliency method here differentiates the *class score* ``f_c(x)``: the
target class's logit (the pre-softmax output, ``softmax2_pre_activation``;
the log of the softmax where a graph has no logits) of each image, with
respect to the [0, 1] pixels that Lucid's ``import_graph`` takes (the model's
value range is reached inside the graph, once). Rows of a batch are
independent, so the gradient of the sum of the batch's scores is each image's
own gradient.

Guided backpropagation (Springenberg et al., 2015) changes the backward pass
of every ReLU: the gradient that flows back is kept only where both the
forward input was positive (the ordinary ReLU gradient) and the incoming
gradient is positive. On a frozen graph this is a gradient override: the graph
is imported inside Lucid's ``gradient_override_map({"Relu": ...})``
(:mod:`lucid.misc.gradient_override`, through
:func:`inception_tools.lucid_compat.import_lucid`), so the imported ``Relu``
ops carry the guided gradient and the forward pass is unchanged.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import tensorflow as tf

from inception_tools.lucid_compat import import_lucid

tf1 = tf.compat.v1


def guided_relu_gradient(op, grad):
    """Guided backprop's ReLU gradient: ``grad`` where ``grad > 0`` and the ReLU's output ``> 0``, else 0."""
    keep = tf.logical_and(grad > 0, op.outputs[0] > 0)
    return tf.where(keep, grad, tf.zeros_like(grad))


class AttributionGraph:
    """One model in its own ``tf.Graph``, ready to give class scores and their gradients.

    Attributes:
        images: placeholder float32 [N, H, W, 3] in [0, 1].
        targets: placeholder int32 [N], the class of each row.
        score: [N], each row's class score (logit of its target).
        input_gradient: [N, H, W, 3], d score / d images.
        layer: [N, h, w, C] activations of ``layer`` (None without a layer).
        layer_gradient: d score / d layer (None without a layer).
        cam: [N, H, W], Grad-CAM of ``layer`` upsampled bilinearly to the input size (None without a layer).
        guided: whether the ReLUs carry guided backprop's gradient.
    """

    def __init__(self, model, layer: Optional[str] = None, guided: bool = False):
        if layer is not None:
            model.depth(layer)
        self.model = model
        self.layer_name = layer
        self.guided = guided
        self.graph = tf.Graph()
        with self.graph.as_default():
            if guided:
                import_lucid()
                from lucid.misc.gradient_override import gradient_override_map

                with gradient_override_map({"Relu": guided_relu_gradient}):
                    self.images, T = model.import_graph(scope="import")
            else:
                self.images, T = model.import_graph(scope="import")
            logits_name = model.logits_name()
            self.logits = T(logits_name) if logits_name else tf.math.log(T(model.output_name) + 1e-30)
            self.targets = tf1.placeholder(tf.int32, [None], name="targets")
            self.score = tf.gather(self.logits, self.targets, axis=1, batch_dims=1)
            total = tf.reduce_sum(self.score)
            self.input_gradient = tf1.gradients(total, self.images)[0]
            self.layer = self.layer_gradient = self.cam = None
            if layer is not None:
                self.layer = T(layer)
                self.layer_gradient = tf1.gradients(total, self.layer)[0]
                self.cam = grad_cam_tensor(self.layer, self.layer_gradient, model.image_shape[:2])
        self.session = tf1.Session(graph=self.graph)

    def run(self, fetches, images, targets):
        """``fetches`` for ``images`` [N, H, W, 3] in [0, 1] and ``targets`` [N]."""
        feed = {self.images: np.asarray(images, np.float32), self.targets: np.asarray(targets, np.int32)}
        return self.session.run(fetches, feed)

    def logits_of(self, images):
        """float32 [N, classes], the class scores of every class."""
        return self.session.run(self.logits, {self.images: np.asarray(images, np.float32)})

    def close(self):
        self.session.close()


def grad_cam_tensor(layer, gradient, size):
    """Grad-CAM (Selvaraju et al.): ``ReLU(sum_k alpha_k A_k)``, ``alpha_k`` = mean over positions of d score / d A_k.

    Returns:
        [N, H, W]: the map upsampled bilinearly (``tf.image.resize``, half-pixel centres) to ``size``.
    """
    weights = tf.reduce_mean(gradient, axis=[1, 2], keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * layer, axis=-1, keepdims=True))
    return tf.image.resize(cam, size, method="bilinear")[..., 0]
