"""``inception-tools importance``: mean-ablation importance of the channels of a layer."""

from inception_tools.cli import options
from inception_tools.errors import UserError
from inception_tools.cli.ray import add_ray_arguments, importance_hook


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
    p.add_argument("--until-reliable", type=options.finite_float, default=None, metavar="R",
                   help="take the images in a seeded shuffled order, --chunk at a time, and stop once the --score "
                        "measure's projected split-half reliability reaches R (e.g. 0.9); with --estimator "
                        "control-variate the first-order pass covers every image and the exact subsample grows instead")
    p.add_argument("--score", default="importance", choices=["importance", "delta-logprob", "kl", "l1"],
                   help="measure --until-reliable watches (default: the study's importance)")
    p.add_argument("--chunk", type=options.positive_int, default=250, help="--until-reliable: images between checks (default 250; with --estimator control-variate: exact "
                        "images added between checks)")
    p.add_argument("--shuffle-seed", type=options.seed, default=0, help="--until-reliable: seed of the image order")
    options.add_reliability_arguments(p)
    p.add_argument("--basis", default=None,
                   help="score the layer's principal components instead of its channels: each PC's coordinate "
                        "set to the dataset mean's, every column as for channels (feature_ind k = PC k+1)")
    p.add_argument("--components", type=options.positive_int, default=None, metavar="P",
                   help="--basis: score PCs 1..P (default: all d)")
    p.add_argument("--basis-seed", type=options.seed, default=0,
                   help="--basis: seed of the one random position per image the PCs are computed from (default 0, "
                        "as inception-tools basis)")
    p.add_argument("--estimator", choices=["exact", "control-variate", "first-order"], default="exact",
                   help="exact (default): every channel on every image; control-variate: exact on a seeded random "
                        "--exact-fraction of the images plus a first-order control on all (consistent, ~10-30x less "
                        "exact work); first-order: the control alone, an approximation")
    p.add_argument("--exact-fraction", type=options.finite_float, default=0.1, metavar="F",
                   help="--estimator control-variate: share of the images ablated exactly (default 0.1; with "
                        "--until-reliable the share it starts from)")
    p.add_argument("--estimator-seed", type=options.seed, default=0, help="--estimator control-variate: seed of the exact images")
    p.add_argument("--verify", action="store_true", help="check that imputing the original values changes nothing")
    p.add_argument("--out", help="CSV to write (default outputs/<model>-<layer>/importance.csv); beside X.csv: X.json "
                                 "(summary), X.outcomes.npy and X.images.npz (per-image outcomes), X.settings.json "
                                 "(settings), X.lock, and X.partial/ while the scan runs")
    add_ray_arguments(p, "channel shards")
    p.set_defaults(func=run)


def run(args):
    from inception_tools.data import load_dataset
    from inception_tools.importance import ImportanceConfig, score_layer
    from inception_tools.importance.directions import check_basis
    from inception_tools import layout
    from inception_tools.layout import IMPORTANCE_CSV
    from inception_tools.models import load_model
    from inception_tools.surgery import Network

    layer = options.layer_of(args)
    model = load_model(args.model, args.model_path, card=args.card, layers=[layer])
    model.check_layer(layer, "ablate")
    out = args.out or options.default_out(args, IMPORTANCE_CSV)
    options.check_importance_outputs(out, [("model file", model.path), ("dataset", options.data_of(args))])
    if args.top_k is not None:
        model.check_top_k(args.top_k)
    if args.basis is not None:
        check_basis(args.basis)
    if args.basis is None and args.components is not None:
        raise UserError("--components needs --basis pca")
    if args.basis is not None and args.channels:
        raise UserError("--channels chooses channels; with --basis choose the principal components with --components")
    depth = model.depth(layer)
    channels = None if args.basis else options.parse_channels(args.channels, depth)
    config = ImportanceConfig(channels, args.top_k, args.ablation, args.batch_size, args.method, not args.no_shortcut,
                              args.until_reliable, args.score, args.chunk, args.shuffle_seed, args.splits,
                              args.resamples, args.seed, args.basis, args.components, args.basis_seed,
                              args.estimator, args.exact_fraction, args.estimator_seed)
    data = options.data_of(args)
    dataset = load_dataset(data, model, resize=args.resize, limit=args.limit, reading=options.reading_of(args))
    net = Network(model, layer, pixel_scaling=args.pixel_scaling)
    if args.verify:
        _, images = next(iter(dataset.batches(args.batch_size)))
        diff = net.verify(images)
        print(f"verify: imputing {layer} with its own values changes the logits by at most {diff:.3g}: ok")
    top_k = model.default_top_k if args.top_k is None else args.top_k
    with importance_hook(args, model, layer, data) as distribute:
        result = score_layer(net, dataset, config, out, meta=_meta(data, args.limit), report=print,
                             distribute=distribute, reads=[model.path, data])
    summary = result.summary
    acc = summary["accuracy"]
    print(f"{model.name} on {summary['n_images_used']} images ({dataset.resize}, pixel scaling {args.pixel_scaling}): "
          f"top-1 {acc['top1']:.1%}, top-5 {acc['top5']:.1%}, top-10 {acc['top10']:.1%}")
    if args.until_reliable is not None:
        last = summary["until_reliable"]["trajectory"][-1]
        reached = last["projected"] >= args.until_reliable
        done = (f"{last['exact_images']} images ablated exactly, the control on all {len(dataset)}" if "exact_images"
                in last else f"{last['images']} of {len(dataset)} images")
        print(f"until reliable: {'reached' if reached else 'did not reach'} {args.until_reliable} for {args.score} "
              f"after {done} (projected {last['projected']:.3f})")
    scored = summary["channels"]
    what = f"principal components 1-{scored}" if args.basis else "channels"
    if args.basis:
        print(f"the {scored} components explain {summary['basis']['explained_variance']:.1%} of the variance "
              f"of the sampled {layer} vectors; components saved in {layout.directions_file(out)}")
    print(f"wrote {out} ({scored} {what} of {layer}, top-{top_k}, {args.ablation} ablation) "
          "and its per-image outcomes beside it")
    return 0


def _meta(data, limit):
    """What importance.json records of the data beyond the scan's settings: the source and the limit's subset."""
    from inception_tools.data.dataset import SUBSET

    return {"data": data, **({"limit": limit, "subset": SUBSET} if limit else {})}
