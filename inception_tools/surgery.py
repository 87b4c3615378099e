"""Graph surgery: read a layer, replace some of its channels, run on from there.

Method (the study's, with ``Session.partial_run``):

1. Before import, an ``Identity`` node ``<layer>_imputed`` is spliced in after
   ``<layer>`` and every consumer of ``<layer>`` is rewired to read it. (A
   tensor cannot be both fetched and fed in one partial run, so the layer and
   the value the rest of the network sees must be two tensors.)
2. ``partial_run_setup(fetches=[layer, logits], feeds=[images, imputed])``.
3. ``partial_run`` fetches the layer's activations for a batch of images.
4. The chosen channels are overwritten (with their dataset mean, zero, or any
   given values) and fed to ``imputed``; a second ``partial_run`` fetches the
   logits. Only the part of the graph after the layer runs in step 4.

:meth:`Network.verify` checks that the splice worked: structurally, the
imputation point must be the layer's only consumer on the way to the logits
(a consumer left reading the layer itself would ignore every imputation);
numerically, feeding the activations back unchanged must reproduce the
unablated logits, and feeding changed activations must change them.

Pixel scaling happens once: images go in as [0, 1] floats and Lucid's
``create_input`` maps them to the model's value range. ``pixel_scaling=
"study"`` reproduces the original study, which fed images already scaled to
the value range into Lucid's ``import_graph`` and so scaled them twice.
"""

import numpy as np
import tensorflow as tf

from inception_tools.errors import UserError
from inception_tools.models.graph import ancestor_ops

tf1 = tf.compat.v1
# partial_run is deprecated in TF2 but kept in tf.compat.v1; it is the study's method.
tf.get_logger().setLevel("ERROR")

PIXEL_SCALINGS = ("once", "study")


def splice_identity(graph_def, layer, suffix="_imputed"):
    """Copy of ``graph_def`` with ``<layer><suffix>`` between ``layer`` and its consumers."""
    spliced = tf1.GraphDef()
    spliced.CopyFrom(graph_def)
    name = layer + suffix
    for node in spliced.node:
        node.input[:] = [name if i in (layer, layer + ":0") else i for i in node.input]
    identity = spliced.node.add()
    identity.name = name
    identity.op = "Identity"
    identity.input.append(layer)
    identity.attr["T"].type = tf.float32.as_datatype_enum
    return spliced


def scale_for_study(images, value_range):
    """The study's inputs: [0, 1] images already mapped to the value range."""
    lo, hi = value_range
    return lo + images * (hi - lo)


class Network:
    """One model imported with an imputation point after ``layer``."""

    def __init__(self, model, layer, pixel_scaling="once", threads=None):
        if pixel_scaling not in PIXEL_SCALINGS:
            raise UserError(f"unknown pixel scaling {pixel_scaling!r}; use one of {', '.join(PIXEL_SCALINGS)}")
        model.check_layer(layer, "activations")  # the splice needs the layer's own node
        self.model = model
        self.layer = layer
        self.pixel_scaling = pixel_scaling
        self._side = None
        self.graph = tf.Graph()
        with self.graph.as_default():
            surgical = model.with_graph_def(splice_identity(model.graph_def, layer))
            self.images, T = surgical.import_graph(scope="import")
            self.activations = T(layer)
            self.imputed = T(layer + "_imputed")
            logits_name = model.logits_name()
            self.logits = T(logits_name) if logits_name else tf.math.log(T(model.output_name) + 1e-30)
            self.T = T
        config = tf1.ConfigProto(intra_op_parallelism_threads=threads or 0, inter_op_parallelism_threads=threads or 0)
        self.session = tf1.Session(graph=self.graph, config=config)

    def close(self):
        self.session.close()

    def feed(self, images):
        if self.pixel_scaling == "study":
            images = scale_for_study(images, self.model.value_range)
        return {self.images: images}

    def run(self, fetches, images):
        return self.session.run(fetches, self.feed(images))

    def layer_activations(self, images):
        return self.run(self.activations, images)

    def unablated_logits(self, images):
        return self.run(self.logits, images)

    def imputed_logits(self, images, channels, values):
        """Logits with ``activations[..., channels] = values`` (one partial run)."""
        handle = self.session.partial_run_setup([self.activations, self.logits], [self.images, self.imputed])
        acts = self.session.partial_run(handle, self.activations, self.feed(images))
        acts[..., channels] = values
        return self.session.partial_run(handle, self.logits, {self.imputed: acts})

    def side_tensors(self):
        """Tensors the network reads after the layer that do not come through it (a residual
        connection around the layer): computed from the images, consumed by ops that depend on the layer.

        The suffix needs them besides the imputed layer; empty for a chain of blocks.
        """
        if self._side is not None:
            return self._side
        on_path = ancestor_ops(self.logits)
        after = _descendants(self.imputed.op, on_path)
        from_images = _descendants(self.images.op, on_path)
        side = {}
        for op in after - {self.imputed.op}:
            for t in op.inputs:
                if t.op not in after and t.op in from_images:
                    side[t.name] = t
        self._side = [side[name] for name in sorted(side)]
        return self._side

    def side_feed(self, images, copies=1):
        """Feed of the side tensors of ``images``, each stacked ``copies`` times along the batch axis, for a
        run fed ``copies`` variants of the layer (empty where no connection goes around the layer)."""
        side = self.side_tensors()
        if not side:
            return {}
        values = self.run(side, images)
        return {t: np.repeat(v[None], copies, axis=0).reshape((-1,) + v.shape[1:]) for t, v in zip(side, values)}

    def require_no_bypass(self, purpose):
        """Raise UserError when a connection goes around the layer: ``purpose`` feeds the layer alone."""
        if self.side_tensors():
            raise UserError(f"{purpose} feeds layer {self.layer} alone, but a connection goes around it "
                            f"({self.side_tensors()[0].name.split('/', 1)[-1]}): choose a layer that every path "
                            f"to the output goes through (a block's output)")

    def unrewired_consumers(self):
        """Names of the ops other than the imputation point that read the layer on the way to the logits."""
        on_path = ancestor_ops(self.logits)
        return sorted(op.name for op in self.activations.consumers() if op in on_path and op is not self.imputed.op)

    def verify(self, images, rtol=1e-5, atol=1e-4):
        """Check the splice: structure, the layer's own values, and changed values.

        Returns the largest absolute logit difference when the layer's own
        activations are fed back; raises UserError when a consumer of the layer
        bypasses the imputation point, when feeding its own values moves the
        logits past tolerance, or when changed values (``2 a + 1``) leave them unchanged.
        """
        bypass = self.unrewired_consumers()
        if bypass or self.imputed.op not in ancestor_ops(self.logits):
            what = f"{', '.join(bypass)} still read(s) {self.layer}" if bypass else "it does not reach the logits"
            raise UserError(f"verify failed: the imputation point of {self.layer} is bypassed ({what})")
        plain = self.unablated_logits(images)
        handle = self.session.partial_run_setup([self.activations, self.logits], [self.images, self.imputed])
        acts = self.session.partial_run(handle, self.activations, self.feed(images))
        echoed = self.session.partial_run(handle, self.logits, {self.imputed: acts})
        diff = float(np.max(np.abs(plain - echoed)))
        if not np.allclose(plain, echoed, rtol=rtol, atol=atol):
            raise UserError(f"verify failed: imputing {self.layer} with its own values moved the logits by up to {diff:g}")
        changed = self.session.run(self.logits, {**self.feed(images), self.imputed: 2 * acts + 1})
        if np.allclose(plain, changed, rtol=rtol, atol=atol):
            raise UserError(f"verify failed: changing {self.layer} through the imputation point leaves the logits as they are")
        return diff


def _descendants(op, within):
    """``op`` and the ops of ``within`` that read it, directly or not."""
    seen, stack = set(), [op]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(c for t in current.outputs for c in t.consumers() if c in within)
    return seen
