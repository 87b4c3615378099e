"""Feature visualizations as Ray tasks: one task per render call.

:func:`ray_renderer` returns the ``distribute`` hook of the visualizations stage
(:func:`inception_tools.renders.compute`). The stage still forms the calls (so each
keeps its channels and its seed, derived from the seed and the call's first channel), skips
what is on disk or in its checkpoint and saves each call's images as it arrives; a task only
loads the model from its recipe (once per worker process) and runs
:func:`inception_tools.visualization.render`. Lucid's render sessions run one op at a time,
so a render is the same bytes in a worker as in one process.
"""

from inception_tools.scale import ray_session
from inception_tools.scale.recipe import Recipe, load


def render_call(recipe: Recipe, call: list, config):
    """A Ray task: float32 [len(call), 4, S, S, 3], the images of one render call.

    ``config``: the :class:`~inception_tools.visualization.RenderConfig` of the call (picklable; the
    stage's :class:`~inception_tools.renders.RendersConfig` is one)."""
    from inception_tools.visualization import render

    ray_session.crash_once_if_armed()
    model, _ = load(recipe)
    return render(model, recipe.layer, call, config)


def ray_renderer(recipe: Recipe, ray):
    """The ``distribute`` hook of the visualizations stage: every call a Ray task, yielded as each finishes.

    ``recipe``: the model and the layer rendered; the hook is called as ``distribute(calls, config)``
    with a resolved :class:`~inception_tools.renders.RendersConfig` of that layer.
    """
    task = ray_session.remote(ray, render_call)

    def distribute(calls, config):
        tasks = {task.remote(recipe, list(call), config): call for call in calls}
        yield from ray_session.as_completed(ray, tasks)

    return distribute
