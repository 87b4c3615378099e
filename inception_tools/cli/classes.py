"""``inception-tools classes``: per-class activation statistics of layers and how the classes differ."""

from inception_tools.cli import options
from inception_tools.cli.ray import add_ray_arguments, classes_hook
from inception_tools.errors import UserError


def add_parser(subparsers):
    p = subparsers.add_parser(
        "classes",
        help="per-class unit statistics of layers (mean, variance, active count) and class-by-class distances",
        description="One pass over the dataset keeps the images the model gets right with probability at least "
        "--threshold; per class, layer and unit (a convolutional channel's spatial mean, centre or maximum of "
        "the post-ReLU activation; a dense unit as it is) it collects the mean, variance and how many images "
        "activate it. Writes classes.csv, K x K matrices (Euclidean distance of means and of active fractions, "
        "Jaccard similarity of contributing sets, cosine similarity), heatmaps and index.html to --out. "
        "Resumable; a rerun with the same settings only rewrites the report.",
    )
    p.add_argument("--model", default="embedded", help=options.MODEL_HELP)
    p.add_argument("--model-path", help="local frozen GraphDef (.pb) to use instead of the default file")
    options.add_card_argument(p)
    p.add_argument("--layers", default=None,
                   help="comma-separated layers, e.g. conv2d0,mixed3a,mixed4a, each once and named without _pre_relu "
                   "(the statistics read their outputs; the model's output softmax2 is allowed) "
                   "(default: the model's default layer, mixed5a for InceptionV1, mixed3a for embedded)")
    options.add_data_arguments(p)
    p.add_argument("--classes", help="classes to study: output indices, label ids or names (default: all)")
    p.add_argument("--threshold", type=float, default=0.9,
                   help="keep images whose top-1 is the true class with at least this probability (default 0.9)")
    p.add_argument("--position", choices=["mean", "center", "max"], default="mean",
                   help="value of a convolutional channel: spatial mean (default), centre position or maximum")
    p.add_argument("--active-threshold", type=float, default=0.0,
                   help="a unit is active on an image when its value exceeds this (default 0)")
    p.add_argument("--min-fraction", type=float, default=0.0,
                   help="a unit contributes to a class when active on at least this fraction of its images "
                   "(default 0: on at least one)")
    p.add_argument("--definition", choices=["active", "source", "source-gradient"], default="active",
                   help="which values count for a class: active (default, ours: a unit contributes when active on "
                   "a kept image), source (Teague's: values whose weighted contribution to the class is negative "
                   "are zeroed, sign by the summed path weight; dense models), source-gradient (sign of "
                   "activation x gradient of the class logit, per image; any model)")
    p.add_argument("--importance", action="append", default=[], metavar="CSV",
                   help="importance.csv of a finished scan of one of the layers (repeatable): adds class-restricted "
                   "importance from its per-image outcomes next to the activation statistics")
    p.add_argument("--bootstrap", type=options.nonnegative_int, default=200, help="bootstrap replicates for intervals (default 200)")
    p.add_argument("--seed", type=options.seed, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--batch-size", type=options.positive_int, default=64)
    p.add_argument("--out", default=None, help="output folder (default outputs/<model>-<first layer>/classes)")
    add_ray_arguments(p, "the pass's image batches")
    p.set_defaults(func=run)


def run(args):
    import os

    from inception_tools import guards
    from inception_tools.classes import ClassesConfig, class_study
    from inception_tools.data import load_dataset
    from inception_tools.models import catalog, load_model

    spec = catalog.entry(args.model).default_layer if args.layers is None else args.layers
    layers = [layer.strip() for layer in spec.split(",") if layer.strip()]
    if not layers:
        raise UserError("--layers names no layer")
    if len(set(layers)) != len(layers):
        twice = next(layer for layer in layers if layers.count(layer) > 1)
        raise UserError(f"--layers names {twice} twice: give each layer once")
    config = ClassesConfig(tuple(layers), args.classes, args.threshold, args.position, args.active_threshold,
                           args.min_fraction, args.bootstrap, args.seed, args.batch_size, args.pixel_scaling,
                           tuple(args.importance), args.definition)
    model = load_model(args.model, args.model_path, card=args.card, layers=layers)
    for layer in layers:
        model.check_layer(layer, "activations")
    out = args.out or os.path.join("outputs", f"{args.model}-{layers[0]}", "classes")
    data = options.data_of(args)
    guards.check_outputs([("classes folder", out)], [("model file", model.path), ("dataset", data),
                                                     *(("importance table", path) for path in args.importance)])
    dataset = load_dataset(data, model, resize=args.resize, limit=args.limit, reading=options.reading_of(args))
    with classes_hook(args, model, layers, data) as distribute:
        if distribute is not None:
            print(f"classes: {distribute}")
        summary = class_study(model, dataset, config, out, distribute=distribute).summary
    with open(os.path.join(out, "tables.md")) as f:
        print(f.read(), end="")
    if summary["empty_classes"]:
        print(f"warning: no image kept for class(es) {', '.join(summary['empty_classes'])}")
    print(f"wrote {os.path.join(out, 'index.html')}, classes.csv, matrices/, heatmaps/")
    return 0
