"""``inception-tools blocks``: the Building Blocks page of one image (dictionary, attribution, groups)."""

from inception_tools.cli import options
from inception_tools.errors import UserError


def add_parser(subparsers):
    p = subparsers.add_parser(
        "blocks",
        help="semantic dictionary, attribution and NMF groups of one image, as a static page",
        description="Per layer: each position's top channels (semantic dictionary), attribution of positions "
        "and channels to the top classes by gradient x activation and exactly by ablation (with their Spearman "
        "agreement), and NMF groups of the activations; writes <out>/index.html with feature-visualization "
        "thumbnails from the shared render cache.",
    )
    p.add_argument("--model", default="embedded", help=options.MODEL_HELP)
    p.add_argument("--model-path", help="local frozen GraphDef (.pb) to use instead of the zoo download")
    options.add_card_argument(p)
    p.add_argument("--image", required=True, help="the image file")
    p.add_argument("--layers", default=None, help="comma-separated layers with a <layer>_pre_relu tensor (the thumbnails render it; not softmax2) "
                   "(default: mixed4d for InceptionV1, mixed3a for embedded)")
    p.add_argument("--classes", default=None, help="comma-separated output indices, label ids or names (default: the top logits)")
    p.add_argument("--n-classes", type=options.positive_int, default=3, help="how many top classes when --classes is not given (default 3)")
    p.add_argument("--top-n", type=options.positive_int, default=4, help="channels per position in the dictionary (default 4)")
    p.add_argument("--groups", type=options.positive_int, default=6, help="NMF groups (default 6)")
    p.add_argument("--resize", choices=["center-crop", "squash", "native"], default="center-crop",
                   help="how the image reaches the model's input size (default center-crop)")
    p.add_argument("--data", default=None, help="dataset whose channel means are the ablation baseline (default: zero)")
    p.add_argument("--limit", type=options.positive_int, default=None, help="use N images of --data, class-balanced (as --limit elsewhere)")
    p.add_argument("--render-size", type=options.positive_int, default=96, help="thumbnail size in pixels (default 96)")
    p.add_argument("--render-steps", type=options.positive_int, default=128, help="thumbnail optimization steps (default 128)")
    p.add_argument("--seed", type=options.seed, default=0, help="render seed (default 0)")
    p.add_argument("--per-call", type=options.positive_int, default=8, help="thumbnails optimized together in one render_vis call")
    p.add_argument("--render-cache", default=None, help="render cache folder (default $INCEPTION_TOOLS_RENDER_CACHE "
                   "or ~/.cache/inception_tools/renders)")
    p.add_argument("--out", required=True, help="page folder")
    p.set_defaults(func=run)


def run(args):
    import os

    from inception_tools import guards
    from inception_tools.blocks.build import parse_classes
    from inception_tools.blocks.config import BlocksConfig
    from inception_tools.blocks.render_cache import RenderSettings
    from inception_tools.blocks.stage import blocks_page
    from inception_tools.models import catalog, load_model

    layers = [s.strip() for s in (args.layers or catalog.entry(args.model, args.card).blocks_layers).split(",") if s.strip()]
    model = load_model(args.model, args.model_path, card=args.card, layers=layers)
    classes = parse_classes(args.classes, model) if args.classes else None
    if args.data is None and args.limit is not None:
        raise UserError("--limit needs --data")
    guards.check_outputs([("page file", os.path.join(args.out, name)) for name in ("index.html", "blocks.json")],
                         [("image", args.image), ("model file", model.path), ("dataset", args.data)])
    config = BlocksConfig(tuple(layers), classes, args.n_classes, args.top_n, args.groups, args.data, args.limit,
                          args.resize, RenderSettings(args.render_size, args.render_steps, args.seed), args.per_call)
    summary = blocks_page(model, args.image, config, args.out, render_root=args.render_cache).summary
    index = os.path.join(args.out, "index.html")
    print(f"blocks: {index} ({summary['renders_shown']} thumbnails, {summary['renders_made']} rendered now, "
          f"{summary['total_seconds']} s)")
    return 0
