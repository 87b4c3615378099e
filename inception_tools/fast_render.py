"""The fast render engine's graph: Lucid's, with three parts computed more cheaply.

A Lucid render step of InceptionV1 at mixed5a spends most of its time in the
network's convolutions and their gradients, which no engine can skip, and
about a third in three parts that do much more work than their result needs.
The fast engine (:mod:`inception_tools.render_engine`) builds Lucid's graph
with ``make_vis_T`` (Lucid's parameterisation, transforms, model import,
objectives and Adam) and replaces only these:

- :func:`diversity`: Lucid's ``objectives.diversity`` takes each image's
  normalized Gram matrix by slicing the [n, C, C] tensor, once per use, so
  ``2 n (n - 1)`` slices (24 for four images), and TensorFlow's gradient of
  each slice is a full [n, C, C] tensor of zeros around it, all added up
  (4 x 832 x 832 floats each at mixed5a). Here one ``unstack`` takes the n
  rows; the terms, their order and the division are Lucid's.
- :func:`redirected_relu_grad`: Lucid's redirected ReLU gradient computes
  both the plain and the redirected gradient at every step and picks the
  plain one after step 16. Here a ``tf.cond`` computes only the one it
  returns; both are elementwise selections, so the values are Lucid's bit
  for bit.
- :func:`lrn_grad`: TensorFlow's ``LRNGrad`` CPU kernel loops over each
  position's depth window. Here the same formula,
  ``dx = g N^-b - 2 a b x W(g y / N)`` with ``N = bias + a W(x^2)`` and ``W`` the
  sum over the depth window, takes the window sums as one matrix product
  with a band matrix (agrees with ``LRNGrad`` to about 2e-7 relative).

The network's forward pass is the model's graph unchanged. The diversity and
LRN gradients round differently from Lucid's (last bits), and an
optimization amplifies such differences step by step, so the fast engine's
images are like Lucid's but not the same bytes; each engine is bit-
reproducible per seed.
"""

import contextlib

import numpy as np
import tensorflow as tf

from inception_tools.lucid_compat import import_lucid

tf1 = tf.compat.v1
REDIRECT_STEPS = 16  # Lucid's: the redirected gradient is used while the global step is at most this


def diversity(layer):
    """Lucid's ``objectives.diversity(layer)``: the same terms, with the Gram rows taken by one unstack."""
    import_lucid()
    from lucid.optvis import objectives

    def inner(T):
        layer_t = T(layer)
        batch_n, _, _, channels = layer_t.get_shape().as_list()
        flattened = tf.reshape(layer_t, [batch_n, -1, channels])
        grams = tf.matmul(flattened, flattened, transpose_a=True)
        grams = tf.nn.l2_normalize(grams, axis=[1, 2], epsilon=1e-10)
        rows = tf.unstack(grams)
        return sum([sum([tf.reduce_sum(rows[i] * rows[j]) for j in range(batch_n) if j != i])
                    for i in range(batch_n)]) / batch_n

    return objectives.Objective(inner, f"diversity:{layer}")


def redirected_relu_grad(op, grad):
    """Lucid's redirected ReLU gradient, computing only the branch it returns."""
    x = op.inputs[0]
    relu_grad = tf1.where(x < 0., tf.zeros_like(grad), grad)

    def redirected():
        neg_pushing_lower = tf.logical_and(x < 0., grad > 0.)
        redirected_grad = tf1.where(neg_pushing_lower, tf.zeros_like(grad), grad)
        magnitude = tf.norm(tf.reshape(relu_grad, [tf.shape(relu_grad)[0], -1]), axis=1)
        return tf1.where(magnitude > 0., relu_grad, redirected_grad)

    after = tf.greater(tf1.train.get_or_create_global_step(), tf.constant(REDIRECT_STEPS, tf.int64))
    return tf1.cond(after, lambda: tf.identity(relu_grad), redirected)


def depth_window_sum(t, radius):
    """Sum of ``t`` over the last axis's window ``[d - radius, d + radius]`` (zeros outside)."""
    depth = int(t.shape[-1])
    band = (np.abs(np.arange(depth)[:, None] - np.arange(depth)[None, :]) <= radius).astype(np.float32)
    return tf.reshape(tf.matmul(tf.reshape(t, [-1, depth]), band), tf.shape(t))


def lrn_grad(op, grad):
    """The gradient of ``tf.nn.lrn`` (TensorFlow's ``LRNGrad`` formula), window sums by a band matrix."""
    x, y = op.inputs[0], op.outputs[0]
    radius, bias, alpha, beta = (op.get_attr(k) for k in ("depth_radius", "bias", "alpha", "beta"))
    norm = bias + alpha * depth_window_sum(tf.square(x), radius)
    return grad * tf.pow(norm, -beta) - (2 * alpha * beta) * x * depth_window_sum(grad * y / norm, radius)


@contextlib.contextmanager
def gradient_overrides():
    """While active, ops created get the fast engine's ReLU and LRN gradients (Lucid's for ReLU6)."""
    import_lucid()
    from lucid.misc.gradient_override import gradient_override_map
    from lucid.misc.redirected_relu_grad import redirected_relu6_grad

    with gradient_override_map({"Relu": redirected_relu_grad, "Relu6": redirected_relu6_grad, "LRN": lrn_grad}):
        yield
