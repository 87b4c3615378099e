"""``inception-tools importance``: mean-ablation importance of the channels of a layer."""

import functools

from inception_tools.cli import options


def add_parser(subparsers):
    p = subparsers.add_parser("importance", help="rank the channels of a layer by ablation importance")
    options.add_model_arguments(p)
    options.add_data_arguments(p)
    p.add_argument("--channels", help="channels to score, e.g. 0-31 or 3,7,9-12 (default: all)")
    p.add_argument("--top-k", type=options.positive_int, default=None, help="correct = true class in the top k (default: model's, 10 for InceptionV1)")
    p.add_argument("--ablation", choices=["mean", "zero"], default="mean")
    p.add_argument("--method", choices=["fast", "reference"], default="fast",
                   help="fast (default): layer once per batch, suffix per channel; reference: the study's partial_run per channel")
    p.add_argument("--no-shortcut", action="store_true", help="fast engine: recompute the 1x1 convolutions after the layer")
    p.add_argument("--batch-size", type=options.positive_int, default=32)
    p.add_argument("--verify", action="store_true", help="check that imputing the original values changes nothing")
    p.add_argument("--out", help="CSV to write (default outputs/<model>-<layer>/importance.csv)")
    p.set_defaults(func=run)


def run(args):
    from inception_tools.data import load_dataset
    from inception_tools.importance import score_layer
    from inception_tools.importance.fast import fast_outcomes
    from inception_tools.importance.outcomes import reference_outcomes
    from inception_tools.layout import IMPORTANCE_CSV
    from inception_tools.models import load_model
    from inception_tools.surgery import Network

    layer = options.layer_of(args)
    model = load_model(args.model, args.model_path, layers=[layer])
    channels = options.parse_channels(args.channels, model.depth(layer))
    data = options.data_of(args)
    dataset = load_dataset(data, model, resize=args.resize, limit=args.limit)
    net = Network(model, layer, pixel_scaling=args.pixel_scaling)
    if args.verify:
        _, images = next(iter(dataset.batches(args.batch_size)))
        diff = net.verify(images)
        print(f"verify: imputing {layer} with its own values changes the logits by at most {diff:.3g}: ok")
    out = args.out or options.default_out(args, IMPORTANCE_CSV)
    top_k = model.default_top_k if args.top_k is None else args.top_k
    outcomes = reference_outcomes
    if args.method == "fast":
        outcomes = functools.partial(fast_outcomes, shortcut=not args.no_shortcut)
    summary = score_layer(net, dataset, channels, out, top_k, args.ablation, args.batch_size,
                          outcomes=outcomes, method=args.method, meta={"data": data})
    acc = summary["accuracy"]
    print(f"{model.name} on {len(dataset)} images ({dataset.resize}, pixel scaling {args.pixel_scaling}): "
          f"top-1 {acc['top1']:.1%}, top-5 {acc['top5']:.1%}, top-10 {acc['top10']:.1%}")
    print(f"wrote {out} ({len(channels)} channels of {layer}, top-{top_k}, {args.ablation} ablation)")
    return 0
