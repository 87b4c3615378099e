"""Feature visualizations as Ray tasks: one task per ``render_vis`` call.

:func:`ray_renderer` returns the ``render_calls`` hook of
:func:`inception_tools.visualization.render_channels`. That function still
forms the calls (so each keeps its channels and its seed, derived from the
seed and the call's first channel), skips what is on disk and saves each
call's images as it arrives; a task only loads the model from its recipe
(once per worker process) and runs :func:`inception_tools.visualization.render`.
Lucid's render sessions run one op at a time, so a render is the same
bytes in a worker as in one process.
"""

from inception_tools.scale import ray_session
from inception_tools.scale.recipe import Recipe, load


def render_call(recipe: Recipe, call: list, config):
    """A Ray task: float32 [len(call), 4, S, S, 3], the images of one ``render_vis`` call.

    ``config``: the :class:`~inception_tools.visualization.RenderConfig` of the call (picklable)."""
    from inception_tools.visualization import render

    ray_session.crash_once_if_armed()
    model, _ = load(recipe)
    return render(model, recipe.layer, call, config)


def ray_renderer(recipe: Recipe, ray):
    """The ``render_calls`` hook of ``render_channels``: every call a Ray task, yielded as each finishes."""
    task = ray_session.remote(ray, render_call)

    def render_calls(model, layer, calls, config):
        tasks = {task.remote(recipe, list(call), config): call for call in calls}
        yield from ray_session.as_completed(ray, tasks)

    return render_calls
