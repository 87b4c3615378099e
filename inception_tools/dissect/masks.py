"""A layer's activations and its channels' upsampled threshold masks, in one TensorFlow graph.

For a batch of [0, 1] images the graph gives:

- the layer's activations ``A`` [n, h, w, K] (the post-ReLU output);
- the images area-averaged to the compared resolution R x R (colour naming);
- the masks ``M_k(x) = upsampled A_k(x) > T_k`` at R x R: ``A`` resized
  bilinearly (TensorFlow's ``resize`` with half-pixel centres, as Bau et
  al.'s NetDissect resizes with bilinear interpolation) and compared with the
  thresholds; strictly greater, so a channel whose threshold is 0 (zero on
  more than 99.5% of the positions) has an empty mask rather than a full one;
- for concept masks ``L`` [n, R R, C] fed in: ``|M_k|`` and ``|M_k ∩ L_c|``
  of each image for all k and c at once, as the batched matrix product
  ``M^T L`` of the 0/1 masks (float32 sums of at most R R ones, exact below 2**24).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from inception_tools.errors import UserError

tf1 = tf.compat.v1


class LayerMasks:
    """The graph of one model and layer at one mask resolution.

    Args:
        model: a loaded :class:`~inception_tools.models.model.Model`.
        layer: a convolutional layer of it.
        resolution: the side R of the compared masks.
    """

    def __init__(self, model, layer, resolution):
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.images, T = model.import_graph(scope="import")
            acts = T(layer)
            if acts.shape.rank != 4:
                raise UserError(f"layer {layer} has no spatial map to dissect (it is {acts.shape.rank - 1}-d)")
            self.acts = acts
            self.small = tf.image.resize(self.images, [resolution, resolution], method="area")
            up = tf.image.resize(acts, [resolution, resolution], method="bilinear")  # half-pixel centres
            self.thresholds = tf1.placeholder(tf.float32, [None], name="thresholds")
            self.units = tf1.placeholder(tf.int32, [None], name="units")
            self.unit_masks = tf.gather(up, self.units, axis=3) > self.thresholds
            positions = resolution * resolution
            flat = tf.reshape(tf.cast(up > self.thresholds, tf.float32), [-1, positions, acts.shape[-1]])
            self.concepts = tf1.placeholder(tf.float32, [None, positions, None], name="concepts")
            self.area = tf.reduce_sum(flat, axis=1)
            self.intersection = tf.matmul(flat, self.concepts, transpose_a=True)
        self.session = tf1.Session(graph=self.graph)

    def close(self):
        self.session.close()

    def activations(self, images):
        """float32 [n, h, w, K] activations of the layer."""
        return self.session.run(self.acts, {self.images: images})

    def small_images(self, images):
        """The images area-averaged to R x R: float32 [n, R, R, 3]."""
        return self.session.run(self.small, {self.images: images})

    def counts(self, images, thresholds, concept_masks):
        """(``|M_k ∩ L_c|`` int64 [n, K, C], ``|M_k|`` int64 [n, K]) of each image of one batch.

        Args:
            images: float32 [n, H, W, 3] in [0, 1].
            thresholds: [K] thresholds.
            concept_masks: bool [n, R, R, C].
        """
        n, size = concept_masks.shape[0], concept_masks.shape[1] * concept_masks.shape[2]
        flat = concept_masks.reshape(n, size, concept_masks.shape[-1]).astype(np.float32)
        inter, area = self.session.run([self.intersection, self.area], {
            self.images: images, self.thresholds: np.asarray(thresholds, np.float32), self.concepts: flat})
        return np.rint(inter).astype(np.int64), np.rint(area).astype(np.int64)

    def masks(self, images, units, thresholds):
        """bool [n, R, R, len(units)]: the masks of ``units`` with their ``thresholds``."""
        return self.session.run(self.unit_masks, {self.images: images, self.units: np.asarray(units, np.int32),
                                                  self.thresholds: np.asarray(thresholds, np.float32)})
