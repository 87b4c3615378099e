"""``inception-tools basis``: neuron basis vs principal components of a layer (Dey et al.)."""

from inception_tools.cli import options
from inception_tools.cli.ray import add_ray_arguments, basis_hook


def add_parser(subparsers):
    p = subparsers.add_parser(
        "basis", help="PCA vs neuron basis of a layer: explained variance, ablation curves, strips, renders",
        description="Samples one activation vector per image (one random position, seeded) of the layer's "
        "output (the tensor the surgery imputes) and of <layer>_pre_relu, computes both bases, their "
        "explained variance, cumulative ablation curves (top-k / bottom-k vectors projected to the "
        "dataset mean), distance-minimizing strips and Lucid renders along basis vectors.")
    options.add_model_arguments(p)
    options.add_data_arguments(p)
    p.add_argument("--seed", type=options.seed, default=0, help="seed of the sampled positions (and renders)")
    p.add_argument("--components", type=options.positive_int, default=None, help="principal components to keep (default: all d)")
    p.add_argument("--top-k", type=options.positive_int, default=None, help="ablation: top-k accuracy besides top-1 (default: model's)")
    p.add_argument("--no-ablation", action="store_true", help="skip the ablation curves")
    p.add_argument("--ablation-images", type=options.positive_int, default=None,
                   help="measure the ablation curves on this many images, evenly spaced (default: all)")
    p.add_argument("--points-per-octave", type=options.positive_int, default=1, help="ablation grid: k values per doubling (default 1)")
    p.add_argument("--ks", default=None, help="ablation: the k values, e.g. 1,2,8,64 (default: the log grid up to d)")
    p.add_argument("--basis", default="pca", help="basis of the strips and renders: pca (default) or neuron")
    p.add_argument("--vectors", default=None, help="basis vectors (1 = highest variance) for strips and renders, e.g. 1-4")
    p.add_argument("--strip-points", type=options.positive_int, default=8, help="strip: points along the direction (m, default 8)")
    p.add_argument("--strip-k", type=options.positive_int, default=4, help="strip: nearest patches per point (default 4)")
    p.add_argument("--importance", default=None, metavar="CSV",
                   help="rank the gallery by this importance --basis pca table (same data, seed, batch size)")
    p.add_argument("--score", default="importance", choices=["importance", "delta-logprob", "kl", "l1"],
                   help="with --importance: the measure to rank by (default importance)")
    p.add_argument("--render", action="store_true", help="also render the --vectors with Lucid (direction + diversity)")
    p.add_argument("--steps", type=options.positive_int, default=256, help="render: optimization steps (default 256)")
    p.add_argument("--size", type=options.positive_int, default=None, help="render: size in pixels (default: model input size)")
    p.add_argument("--batch-size", type=options.positive_int, default=32)
    p.add_argument("--out", help="folder (default outputs/<model>-<layer>/basis)")
    add_ray_arguments(p, "the ablation's image batches")
    p.set_defaults(func=run)


def parse_vectors(spec, count):
    """'1-4' or '1,3' (1 = highest variance) -> 0-based column indices; None -> []."""
    from inception_tools.errors import UserError

    if spec is None:
        return []
    try:
        vectors = options.parse_channels(spec, count + 1)
    except UserError:
        vectors = None
    if vectors is None or vectors[-1] > count:
        raise UserError(f"bad --vectors {spec!r}: the basis has vectors 1-{count} (1 = the highest variance)")
    if 0 in vectors:
        raise UserError("basis vectors are numbered from 1 (the highest variance)")
    return [v - 1 for v in vectors]


def parse_ks(spec):
    """'1,2,8' -> [1, 2, 8]; None -> None."""
    from inception_tools.errors import UserError

    if spec is None:
        return None
    try:
        return [int(k) for k in spec.split(",")]
    except ValueError:
        raise UserError(f"bad --ks {spec!r}: use a comma-separated list of integers such as 1,2,8") from None


def run(args):
    import os

    from inception_tools import guards
    from inception_tools.basis.config import BasisConfig
    from inception_tools.basis.stage import basis_study
    from inception_tools.data import load_dataset
    from inception_tools.models import load_model
    from inception_tools.surgery import Network

    layer = options.layer_of(args)
    model = load_model(args.model, args.model_path, card=args.card, layers=[layer])
    model.check_layer(layer, "ablate")
    vectors = parse_vectors(args.vectors, args.components or model.depth(layer))
    config = BasisConfig(seed=args.seed, components=args.components, top_k=args.top_k,
                         ablation_images=args.ablation_images, points_per_octave=args.points_per_octave,
                         batch_size=args.batch_size, ablate=not args.no_ablation, visual_basis=args.basis,
                         vectors=tuple(vectors), strip_points=args.strip_points, strip_k=args.strip_k,
                         render=args.render, steps=args.steps, size=args.size, ks=parse_ks(args.ks),
                         importance=args.importance, score=args.score)
    if args.top_k is not None:
        model.check_top_k(args.top_k)
    data = options.data_of(args)
    dataset = load_dataset(data, model, resize=args.resize, limit=args.limit, reading=options.reading_of(args))
    out = args.out or options.default_out(args, "basis")
    guards.check_outputs([("basis folder", out)], [("model file", model.path), ("dataset", data),
                                                   ("importance table", args.importance)])
    net = Network(model, layer, pixel_scaling=args.pixel_scaling)
    with basis_hook(args, model, layer, data) as distribute:
        study = basis_study(net, dataset, out, config, distribute=distribute)
    for line in study.report():
        print(line)
    if config.vectors:
        print(f"strips, renders and gallery: {os.path.join(out, 'gallery', 'index.html')}")
    print(f"wrote {os.path.join(out, 'basis.json')}")
    return 0
