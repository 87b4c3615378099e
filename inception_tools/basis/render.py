"""Lucid renders of a direction of a layer's activation space.

The objective is Lucid's own ``direction(layer, u)`` (the mean over positions
of the activations' dot product with ``u``) minus ``w * diversity(layer)``,
on the layer output (the basis's tensor), optimized with Lucid's defaults
by a render engine (:mod:`inception_tools.render_engine`, default ``fast``),
four images per direction, seeded as :mod:`inception_tools.visualization`
does. Each engine's renders go to their own folder.
"""

import numpy as np
from tensorflow.python.util import deprecation

from inception_tools.basis.strip import vector_name
from inception_tools.errors import UserError
from inception_tools.lucid_compat import import_lucid
from inception_tools.render_engine import DEFAULT_ENGINE, diversity, optimize
from inception_tools.visualization import IMAGES_PER_CHANNEL, call_seed, model_diversity_weight, seeded_image_param


def direction_objective(layer, vector, diversity_weight, engine=DEFAULT_ENGINE):
    import_lucid()
    from lucid.optvis import objectives

    return objectives.direction(layer, np.asarray(vector, np.float32)) - diversity_weight * diversity(engine)(layer)


def render_direction(model, layer, vector, steps=256, size=None, seed=0, diversity_weight=None,
                     engine=DEFAULT_ENGINE):
    """float32 [4, S, S, 3] in [0, 1]: four diverse images along ``vector`` (length = the layer's depth)."""
    model.check_pre_relu(layer)
    if len(vector) != model.depth(layer):
        raise UserError(f"direction has {len(vector)} entries, {layer} has {model.depth(layer)} channels")
    if steps < 1 or (size is not None and size < 8):
        raise UserError("steps must be at least 1, size at least 8 pixels")
    size = size or model.image_shape[0]
    with deprecation.silence():
        images = optimize(model.lucid,
                          direction_objective(layer, vector, model_diversity_weight(model, diversity_weight), engine),
                          seeded_image_param(size, IMAGES_PER_CHANNEL, call_seed(seed, 0)), steps, engine)
    return images.astype(np.float32)


def render_folder(steps, size, engine=DEFAULT_ENGINE):
    """The folder of a study's renders: ``renders-<steps>steps-<size>px-<engine>``."""
    return f"renders-{steps}steps-{size}px-{engine}"


def render_vectors(model, layer, basis, config, checkpoint, engine=DEFAULT_ENGINE):
    """Renders of ``config.vectors`` (0-based columns of ``basis``), each saved in ``checkpoint`` when done.

    Args:
        model, layer: the basis's model and layer.
        basis: the :class:`~inception_tools.activations.pca.Basis` whose vectors are rendered.
        config: a :class:`~inception_tools.basis.config.BasisConfig`: ``vectors``, ``steps``, ``size``, ``seed``.
        checkpoint: a :class:`~inception_tools.runner.Checkpoint`: group ``render_<basis>_<vvvv>`` per
            vector, so a resumed run renders only the vectors it lacks.
        engine: a render engine of :mod:`inception_tools.render_engine`.

    Returns:
        ``{vector: float32 [4, S, S, 3]}`` in the order of ``config.vectors``.
    """
    found = {}
    for v in config.vectors:
        name = "render_" + vector_name(basis, v)
        saved = checkpoint.load(name)
        if saved is None:
            images = render_direction(model, layer, basis.vectors[:, v], config.steps, config.size, config.seed,
                                      engine=engine)
            checkpoint.save(name, images=images)
            saved = {"images": images}
        found[v] = saved["images"]
    return found
