"""Feature visualizations of the cells' average vectors, many cells per optimization.

Objective (Lucid's, as its activation-atlas recipe uses it): for the cell
average ``v`` rendered as image ``n`` of the batch,
``objectives.direction_neuron(layer, v, batch=n, cossim_pow=p)``, the dot
product of ``v`` with the layer's activation vector ``h`` at the centre
position of that image, times ``max(0.1, cos(h, v)) ** p``: ``p = 0`` is the
plain dot product, ``p > 0`` the paper's cosine-similarity-weighted dot
product, which favours images whose activation points along ``v`` rather than
merely far out. The sum over the batch is optimized in one call, so ``batch``
cells cost one render (they share only the random transforms of each step);
the batch size bounds the memory, which grows about linearly with it.

Images are Lucid's default parameterization (Fourier, decorrelated, sigmoid)
at ``size`` pixels seen through Lucid's standard transforms, optimized with
Adam (0.05) for ``steps`` steps by :mod:`inception_tools.render_engine`; the
image parameters are seeded by ``(seed, layer index, first cell)``, so a
batch's images depend only on the settings, and each finished batch is saved
to the checkpoint (group ``render<layer index>_<batch>``).
"""

import numpy as np
from tensorflow.python.util import deprecation

from inception_tools import progress
from inception_tools.lucid_compat import import_lucid
from inception_tools.render_engine import optimize
from inception_tools.visualization import seeded_image_param


def cells_objective(layer, vectors, cossim_pow):
    """The sum over batch rows ``n`` of Lucid's ``direction_neuron(layer, vectors[n], batch=n, cossim_pow)``."""
    import_lucid()
    from lucid.optvis import objectives

    parts = [objectives.direction_neuron(layer, np.asarray(v, np.float32), batch=n, cossim_pow=cossim_pow)
             for n, v in enumerate(vectors)]
    return objectives.Objective.sum(parts)


def batch_seed(seed, layer_index, first):
    """A 31-bit seed for the batch of ``layer_index``'s cells that starts with cell ``first``."""
    return int(np.random.SeedSequence([seed, layer_index, first]).generate_state(1)[0] >> 1)


def render_cells(model, layer, vectors, settings, layer_index=0, checkpoint=None):
    """Render every row of ``vectors`` [m, d] as one image: float32 [m, S, S, 3] in [0, 1].

    Args:
        model: the model (its Lucid graph renders).
        layer: the layer the vectors live in.
        vectors: the cells' average vectors.
        settings: the stage's config (``size`` or the model's input size, ``steps``, ``seed``, ``render_batch``,
            ``cossim_pow``, ``engine``).
        layer_index: the layer's place in the config (part of the seed and of the checkpoint's names).
        checkpoint: a ``runner.Checkpoint``, or None.

    Returns:
        The images, in the order of ``vectors``.
    """
    size = settings.size or model.image_shape[0]
    batch = settings.render_batch
    out = []
    with progress.bar(total=len(vectors), desc=f"render {layer}", unit="cell") as bar:
        for b, first in enumerate(range(0, len(vectors), batch)):
            name = f"render{layer_index}_{b}"
            saved = checkpoint.load(name) if checkpoint is not None else None
            if saved is None:
                part = vectors[first:first + batch]
                param_f = seeded_image_param(size, len(part), batch_seed(settings.seed, layer_index, first))
                with deprecation.silence():
                    images = optimize(model.lucid, cells_objective(layer, part, settings.cossim_pow), param_f,
                                      settings.steps, settings.engine)
                saved = {"images": images.astype(np.float32)}
                if checkpoint is not None:
                    checkpoint.save(name, **saved)
            out.append(saved["images"])
            bar.update(len(saved["images"]))
    return np.concatenate(out) if out else np.zeros((0, size, size, 3), np.float32)
