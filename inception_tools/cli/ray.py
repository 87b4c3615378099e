"""``--ray [ADDRESS]`` and ``--ray-workers N`` of the commands that scale out, and their hooks.

Without ``--ray`` the hooks are None and Ray is never imported.
"""

import contextlib

from inception_tools.cli import options
from inception_tools.cli.options import positive_int
from inception_tools.errors import UserError
from inception_tools.scale.recipe import Recipe


def add_ray_arguments(parser, unit):
    """Add ``--ray`` and ``--ray-workers`` to ``parser``; ``unit`` names what becomes a task."""
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                        help=f"run {unit} as Ray tasks: alone, a local Ray; with ADDRESS (HEAD:6379), that cluster "
                             "(every node needs the model and data at the same paths; pip install '.[ray]')")
    parser.add_argument("--ray-workers", type=positive_int, default=None, metavar="N",
                        help="--ray without ADDRESS: worker processes of the local Ray (default: one per CPU)")


def _check(args):
    """UserError for ``--ray-workers`` without ``--ray``."""
    if args.ray is None and args.ray_workers is not None:
        raise UserError("--ray-workers needs --ray (a local Ray)")
    if args.ray not in (None, "local") and args.ray_workers is not None:
        raise UserError("--ray-workers applies to a local Ray only; a cluster offers the CPUs its nodes have")
    return args.ray is not None


@contextlib.contextmanager
def _session(args):
    from inception_tools.scale.ray_session import session

    with session(args.ray, args.ray_workers) as ray:
        yield ray


@contextlib.contextmanager
def _hook(args, make):
    """``make(ray)`` while a Ray session for ``args`` is open; None without ``--ray``."""
    if not _check(args):
        yield None
        return
    with _session(args) as ray:
        yield make(ray)


def _data_recipe(args, model, layer, data):
    return Recipe(model.name, model.path, layer, args.pixel_scaling, str(data), args.resize, args.limit,
                  reading=options.reading_of(args))


def importance_hook(args, model, layer, data):
    """The ``distribute`` hook of ``score_layer`` for ``args`` (None without ``--ray``), while the block runs."""
    def make(ray):
        from inception_tools.scale.importance import distributor

        return distributor(_data_recipe(args, model, layer, data), ray)

    return _hook(args, make)


def render_hook(args, model, layer):
    """The ``distribute`` hook of the visualizations stage for ``args`` (None without ``--ray``)."""
    def make(ray):
        from inception_tools.scale.render import ray_renderer

        return ray_renderer(Recipe(model.name, model.path, layer), ray)

    return _hook(args, make)


def basis_hook(args, model, layer, data):
    """The ``distribute`` hook of ``basis_study`` for ``args`` (None without ``--ray``), while the block runs."""
    def make(ray):
        from inception_tools.scale.basis import distributor

        return distributor(_data_recipe(args, model, layer, data), ray)

    return _hook(args, make)


def classes_hook(args, model, layers, data):
    """The ``distribute`` hook of ``class_study`` for ``args`` (None without ``--ray``), while the block runs."""
    def make(ray):
        from inception_tools.scale.classes import distributor, recipe_of

        return distributor(recipe_of(model, layers, data, args.resize, args.limit, args.pixel_scaling,
                                           options.reading_of(args)), ray)

    return _hook(args, make)
