"""``inception-tools visualize``: Lucid feature visualizations of channels of a layer."""

from inception_tools.cli import options
from inception_tools.errors import UserError
from inception_tools.cli.ray import add_ray_arguments, render_hook


def add_parser(subparsers):
    p = subparsers.add_parser(
        "visualize",
        help="render Lucid feature visualizations (4 diverse images per channel)",
        description="For each channel, optimize four images with Lucid for "
        "channel(<layer>_pre_relu) - 1e2 * diversity(<layer>) (the study's objective) and write "
        "visualizations/<layer>/channel_<cccc>.png and .npy. Channels already on disk are skipped.",
    )
    options.add_model_arguments(p, purpose="visualize")
    p.add_argument("--channels", help="channels, e.g. 0-31 or 3,7,9-12 (default: all, or those of --groups)")
    p.add_argument("--groups", help="groups.csv: render the channels it lists")
    p.add_argument("--objective", choices=["diversity", "channel", "neuron", "negative"], default="diversity")
    p.add_argument("--diversity-weight", type=options.finite_float, default=None,
                   help="weight of the diversity term (default: the model's, 1e2 for InceptionV1, 1 for embedded)")
    p.add_argument("--steps", type=options.positive_int, default=512, help="optimization steps (default 512, Lucid's)")
    p.add_argument("--size", type=options.positive_int, default=None, help="image size in pixels (default: the model's input size)")
    p.add_argument("--seed", type=options.seed, default=0, help="same seed, same images on the same machine (default 0)")
    p.add_argument("--per-call", type=options.positive_int, default=1, help="channels optimized together in one optimization")
    p.add_argument("--engine", choices=("fast", "render_vis"), default=None,
                   help="fast: Lucid's graph with the diversity term and two gradients computed more cheaply; "
                   "render_vis: Lucid's render_vis, the earlier renders' engine. Both bit-reproducible per seed, "
                   "their pixels differ (default: the folder's engine, else fast)")
    p.add_argument("--out", help="study folder (default outputs/<model>-<layer>)")
    add_ray_arguments(p, "the render calls")
    p.set_defaults(func=run)


def run(args):
    from inception_tools import renders, runner
    from inception_tools.models import load_model
    from inception_tools.layout import visualization_dir
    from inception_tools.tables import read_groups

    layer = options.layer_of(args)
    model = load_model(args.model, args.model_path, card=args.card, layers=[layer])
    model.check_layer(layer, "visualize")
    if args.groups and args.channels:
        raise UserError("give --channels or --groups, not both")
    if args.groups:
        channels = model.check_channels(layer, sorted(read_groups(args.groups).channels))
    else:
        channels = options.parse_channels(args.channels, model.depth(layer))
    out = args.out or options.default_out(args, "")
    folder = visualization_dir(out, layer, args.objective)
    config = renders.RendersConfig(layer=layer, channels=tuple(channels), steps=args.steps, size=args.size,
                                   seed=args.seed, objective=args.objective, diversity_weight=args.diversity_weight,
                                   engine=args.engine, per_call=args.per_call)
    config = renders.prepare(model, config, folder)  # before Ray starts
    with render_hook(args, model, layer) as distribute:
        runner.run(renders.STAGE, config, folder, model=model, distribute=distribute)
    print(f"{len(channels)} channels of {model.name} {layer} in {folder}")
    return 0
