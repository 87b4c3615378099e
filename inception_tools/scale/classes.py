"""The class statistics' pass over the images as Ray tasks (``inception-tools classes --ray``).

:func:`distributor` returns the hook that :func:`inception_tools.classes.collect.collect`
(and ``class_study``) take as ``distribute``.

What is spread. The pass runs every image through the model once, fetching
every layer studied and the probabilities; that forward pass is the cost.
Runs of whole batches become Ray tasks (:class:`~inception_tools.scale.blocks.BlockRunner`):
a worker runs the driver's :class:`~inception_tools.classes.collect.BlockJob`
on its batches and returns, per batch, the unit values of every layer
(float64 [n, C], the spatial mean, centre or maximum already taken) and
which images are confidently right.

Byte-identical to one process. The batches are the one-process batches,
so the network sees the same inputs; the statistics are not merged on the
workers but in the driver, which takes each batch's values in batch order
and folds them into the per-class counts, means, squared deviations,
active counts and bootstrap sums exactly as one process does (the Chan et
al. update and the float sums depend on that order). It saves
its checkpoint (the runner's ``.partial/classes.npz``) after every batch, so an
interrupted run, with or without Ray, resumes after the last batch saved.
"""

from inception_tools.scale.blocks import BlockRunner
from inception_tools.scale.recipe import Recipe


def recipe_of(model, layers, data, resize=None, limit=None, pixel_scaling="once", reading=None) -> Recipe:
    """The :class:`Recipe` of a class study of ``layers`` (its network is built on the first one)."""
    return Recipe(model.name, model.path, layers[0], pixel_scaling, str(data), resize, limit, tuple(layers), reading)


def distributor(recipe: Recipe, ray) -> BlockRunner:
    """The ``distribute`` hook of the class statistics: their image batches as Ray tasks of ``recipe``."""
    return BlockRunner(recipe, ray)
