"""``inception-tools examples``: the dataset images that drive each channel of a layer most and least."""

from inception_tools.cli import options


def add_parser(subparsers):
    p = subparsers.add_parser(
        "examples",
        help="find the top and bottom dataset examples of every channel of a layer (one pass)",
        description="One pass over the dataset keeps, for every channel of the layer, the k images "
        "with the largest and the smallest <layer>_pre_relu activation at the centre position "
        "(--mode center, the study's) or the largest spatial maximum / smallest minimum, shown as "
        "receptive-field crops (--mode max). Writes examples/<layer>[-max]/.",
    )
    options.add_model_arguments(p, purpose="visualize")
    options.add_data_arguments(p)
    p.add_argument("--mode", choices=["center", "max"], default="center")
    p.add_argument("-k", type=options.positive_int, default=8, help="examples per channel and side (default 8)")
    p.add_argument("--channels", help="channels whose PNG strips to write (default: all; the pass covers all)")
    p.add_argument("--batch-size", type=options.positive_int, default=32)
    p.add_argument("--out", help="study folder (default outputs/<model>-<layer>)")
    p.set_defaults(func=run)


def run(args):
    from inception_tools.data import load_dataset
    from inception_tools.examples import ExamplesConfig, dataset_examples
    from inception_tools.layout import examples_dir
    from inception_tools.models import load_model

    layer = options.layer_of(args)
    model = load_model(args.model, args.model_path, card=args.card, layers=[layer])
    model.check_layer(layer, "visualize")
    channels = options.parse_channels(args.channels, model.depth(layer))
    dataset = load_dataset(options.data_of(args), model, resize=args.resize, limit=args.limit, reading=options.reading_of(args))
    out = args.out or options.default_out(args, "")
    config = ExamplesConfig(k=args.k, mode=args.mode, batch_size=args.batch_size, pixel_scaling=args.pixel_scaling)
    dataset_examples(model, layer, dataset, out, config, channels=channels)
    print(f"top and bottom {args.k} of {len(dataset)} images for {model.depth(layer)} channels of {layer} "
          f"({args.mode}) in {examples_dir(out, layer, args.mode)}")
    return 0
