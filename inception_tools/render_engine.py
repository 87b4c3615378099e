"""The optimization loop behind a render: Lucid's ``render_vis``, or the same graph built to cost less.

Both engines optimize Lucid's graph: ``make_vis_T`` builds the
parameterisation (``param_f``), Lucid's standard transforms, the model with
the redirected-ReLU gradient, the objective and Adam (0.05), and both run
``steps + 1`` Adam steps before reading the images, as ``render_vis`` with
``thresholds=(steps,)`` does, in Lucid's session (one op at a time,
:mod:`inception_tools.lucid_compat`).

- ``"fast"`` (the default): the graph of :mod:`inception_tools.fast_render`
  (the diversity term, the redirected-ReLU and the LRN gradients computed
  more cheaply; same formulas, other rounding); each step runs only the
  update. Bit-reproducible per seed.
- ``"render_vis"``: Lucid's ``render_vis`` itself (each step also fetches the
  loss), with Lucid's own diversity objective. Bit-reproducible per seed;
  the engine of the study's earlier renders.

The two engines' images of one seed start equal to the last bits and drift
apart as the optimization amplifies the rounding differences, so a folder's
``settings.json`` records the engine and a folder never mixes them.
"""

import numpy as np
import tensorflow as tf

from inception_tools import fast_render
from inception_tools.errors import UserError
from inception_tools.lucid_compat import Session, import_lucid

ENGINES = ("fast", "render_vis")
DEFAULT_ENGINE = "fast"


def check_engine(engine: str) -> str:
    """``engine`` if it is one of :data:`ENGINES`, else UserError."""
    if engine not in ENGINES:
        raise UserError(f"unknown render engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return engine


def diversity(engine: str):
    """The diversity objective function of ``engine``: ``diversity(layer)`` gives a Lucid objective."""
    import_lucid()
    from lucid.optvis import objectives

    return fast_render.diversity if check_engine(engine) == "fast" else objectives.diversity


def optimize(lucid_model, objective, param_f, steps: int, engine: str = DEFAULT_ENGINE) -> np.ndarray:
    """Optimize ``param_f``'s images for ``objective`` with ``engine``; return them after ``steps``.

    Args:
        lucid_model: the Lucid model (``Model.lucid``).
        objective: a Lucid objective (its diversity term from :func:`diversity` of the same engine).
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
        with fast_render.gradient_overrides():
            T = lucid_render.make_vis_T(lucid_model, objective, param_f, relu_gradient_override=False)
        vis_op, t_image = T("vis_op"), T("input")
        tf.compat.v1.global_variables_initializer().run()
        for _ in range(steps + 1):
            sess.run(vis_op)
        return sess.run(t_image)
