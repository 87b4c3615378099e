"""The optimization loop behind a render: Lucid's ``render_vis``, or the same graph with XLA.

Both engines optimize the same Lucid graph: ``make_vis_T`` builds the
parameterisation (``param_f``), Lucid's standard transforms, the model with
Lucid's redirected-ReLU gradient, the objective and Adam (0.05), and runs
``steps + 1`` Adam steps before reading the images, as ``render_vis`` with
``thresholds=(steps,)`` does. Both run in Lucid's session (one op at a time,
:mod:`inception_tools.lucid_compat`).

- ``"render_vis"`` (the default): Lucid's ``render_vis`` itself (each step
  fetches the loss with the update); bit-reproducible per seed.
- ``"xla"``: not the default. Within the noise of a shared 2-core machine
  (11% faster in one benchmark run, 4% slower in another), and not
  bit-reproducible on InceptionV1: two fresh processes rendering the same
  seed gave different bytes, also with XLA's Eigen single-threaded (on the
  small embedded model they agree). The objective's ops, and by
  TensorFlow's rule for ops in a ``jit_scope`` their gradients, are compiled by XLA into one
  cluster. For the study's ``channel - w * diversity`` objective this is the
  costly part outside the network: Lucid's diversity term slices the
  [4, 832, 832] Gram matrices of mixed5a into 12 pairs, whose 24 slice
  gradients TensorFlow fills as full-size zero tensors and adds up, where
  XLA fuses them. The loop fetches only the update op and reads the images
  once at the end. XLA sums the diversity gradient in another order, so the
  pixels differ from ``"render_vis"``'s in the last bits at first and then
  by more as the two optimizations drift apart (the ``channel`` objective
  alone compiles to the same arithmetic: same bits); a folder's
  ``settings.json`` records the engine so the two are never mixed.
"""

import numpy as np
import tensorflow as tf

from inception_tools.errors import UserError
from inception_tools.lucid_compat import Session, import_lucid

ENGINES = ("render_vis", "xla")
DEFAULT_ENGINE = "render_vis"


def check_engine(engine: str) -> str:
    """``engine`` if it is one of :data:`ENGINES`, else UserError."""
    if engine not in ENGINES:
        raise UserError(f"unknown render engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return engine


def xla_objective(objective):
    """Lucid ``objective`` whose ops (and their gradients) XLA compiles into one cluster."""
    import_lucid()
    from lucid.optvis import objectives
    from tensorflow.python.compiler.xla import jit

    def compiled(T):
        with jit.experimental_jit_scope():
            return objective(T)

    return objectives.Objective(compiled, objective.name, objective.description)


def optimize(lucid_model, objective, param_f, steps: int, engine: str = DEFAULT_ENGINE) -> np.ndarray:
    """Optimize ``param_f``'s images for ``objective`` with ``engine``; return them after ``steps``.

    Args:
        lucid_model: the Lucid model (``Model.lucid``).
        objective: a Lucid objective.
        param_f: a Lucid ``param_f`` (called first in the fresh graph).
        steps: as ``render_vis``'s ``thresholds=(steps,)``: ``steps + 1`` Adam updates.
        engine: one of :data:`ENGINES`.

    Returns:
        The images, float32 [batch, S, S, 3] in [0, 1].
    """
    import_lucid()
    from lucid.optvis import render as lucid_render

    if check_engine(engine) == "render_vis":
        return lucid_render.render_vis(lucid_model, objective, param_f=param_f, thresholds=(steps,),
                                       verbose=False)[-1]
    with tf.Graph().as_default(), Session() as sess:
        T = lucid_render.make_vis_T(lucid_model, xla_objective(objective), param_f, relu_gradient_override=True)
        vis_op, t_image = T("vis_op"), T("input")
        tf.compat.v1.global_variables_initializer().run()
        for _ in range(steps + 1):
            sess.run(vis_op)
        return sess.run(t_image)
