"""The fast render engine's graph: Lucid's, with four parts computed more cheaply.

A Lucid render step of InceptionV1 at mixed5a spends most of its time in the
network's convolutions and their gradients, which no engine can skip, and
about a third in parts that do much more work than their result needs.
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
- :func:`conv2d_grad`: the gradient of the strided convolution that reads
  the image (InceptionV1's ``conv2d0``, 7x7, stride 2, 3 channels in) is
  TensorFlow's ``Conv2DBackpropInput``, slow for so few input channels
  (several times the forward convolution). Here it is the transposed
  convolution's sub-pixel form: one stride-1 convolution of the output
  gradient with the kernel rearranged into ``s x s`` phases (``[k/s, k/s, out,
  s*s*in]``), then ``depth_to_space`` and a crop; about 1e-6 relative from
  ``Conv2DBackpropInput``. Every other convolution keeps TensorFlow's gradient op.

The network's forward pass is the model's graph unchanged. The diversity,
LRN and first-convolution gradients round differently from Lucid's (last bits), and an
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
    relu_grad = tf.where(x < 0., 0., grad)  # Lucid's selection, the zero broadcast instead of materialized

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


def _subpixel_input_grad(x, kernel, grad, stride, padding):
    """``Conv2DBackpropInput`` of a stride-``stride`` NHWC convolution as one stride-1 convolution."""
    k, _, depth_in, depth_out = (int(d) for d in kernel.shape)
    m = -(-k // stride)  # taps per phase
    padded = tf.pad(kernel, [[0, stride * m - k], [0, stride * m - k], [0, 0], [0, 0]])
    phases = tf.reverse(tf.reshape(padded, [m, stride, m, stride, depth_in, depth_out]), [0, 2])
    phases = tf.reshape(tf.transpose(phases, [0, 2, 5, 1, 3, 4]), [m, m, depth_out, stride * stride * depth_in])
    rows = tf.nn.conv2d(tf.pad(grad, [[0, 0], [m - 1, m - 1], [m - 1, m - 1], [0, 0]]), phases, 1, "VALID")
    full = tf.nn.depth_to_space(rows, stride)
    height, width = tf.shape(x)[1], tf.shape(x)[2]
    top = left = 0
    if padding == "SAME":
        top = tf.maximum((tf.shape(grad)[1] - 1) * stride + k - height, 0) // 2
        left = tf.maximum((tf.shape(grad)[2] - 1) * stride + k - width, 0) // 2
    return full[:, top:top + height, left:left + width, :]


def conv2d_grad(op, grad):
    """TensorFlow's ``Conv2D`` gradient, with the input gradient of a strided image convolution sub-pixel."""
    x, kernel = op.inputs
    attrs = {k: op.get_attr(k) for k in ("strides", "padding", "explicit_paddings", "use_cudnn_on_gpu",
                                          "data_format", "dilations")}
    strides = attrs["strides"]
    subpixel = (attrs["data_format"] == b"NHWC" and attrs["padding"] in (b"SAME", b"VALID")
                and list(attrs["dilations"]) == [1, 1, 1, 1] and strides[1] == strides[2] > 1
                and strides[0] == strides[3] == 1 and kernel.shape[0] == kernel.shape[1]
                and kernel.shape.is_fully_defined() and int(kernel.shape[2]) <= 4)
    if subpixel:
        input_grad = _subpixel_input_grad(x, kernel, grad, strides[1], attrs["padding"].decode())
    else:
        input_grad = tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(x), filter=kernel, out_backprop=grad,
                                                    **attrs)
    kernel_grad = tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=tf.shape(kernel), out_backprop=grad, **attrs)
    return [input_grad, kernel_grad]


@contextlib.contextmanager
def gradient_overrides():
    """While active, ops created get the fast engine's ReLU, LRN and Conv2D gradients (Lucid's for ReLU6)."""
    import_lucid()
    from lucid.misc.gradient_override import gradient_override_map
    from lucid.misc.redirected_relu_grad import redirected_relu6_grad

    with gradient_override_map({"Relu": redirected_relu_grad, "Relu6": redirected_relu6_grad, "LRN": lrn_grad,
                                "Conv2D": conv2d_grad}):
        yield
