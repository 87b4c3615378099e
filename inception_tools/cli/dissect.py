"""``inception-tools dissect``: network dissection of a layer (Bau et al.), with compositional explanations."""

import os

from inception_tools.cli import options


def add_parser(subparsers):
    p = subparsers.add_parser(
        "dissect", help="network dissection: each channel's best concept (IoU of its top-quantile mask), detectors",
        description="Thresholds every channel of --layer at its top --quantile over all positions of all images "
        "(two-pass streaming histogram), upsamples its activation bilinearly to --resolution, and scores the "
        "mask against each concept's pixel masks by intersection over union summed over the dataset. A channel "
        "whose best IoU exceeds --iou-threshold is a detector. --compose N adds compositional explanations "
        "(AND, OR, AND NOT; beam search). Writes dissection.csv/.json/.npz, index.html and detectors.png to "
        "--out. Resumable: rerun the same command after an interruption.")
    p.add_argument("--model", default="embedded", help="model name: embedded (default), InceptionV1, ...")
    p.add_argument("--model-path", help="local frozen GraphDef (.pb) to use instead of the default file")
    p.add_argument("--layer", required=True, help="convolutional layer to dissect, e.g. mixed4a")
    p.add_argument("--concepts", default="colors",
                   help="'colors' (default: Broden's 11 colour names of each pixel of the --data photos) or a "
                   "Broden-layout folder (index.csv, label.csv, images/), which brings its own images")
    p.add_argument("--data", default=None,
                   help="with --concepts colors: image folder, .npz or 'embedded' (default: the model's own data)")
    p.add_argument("--resize", choices=["center-crop", "64-upscale"], default=None,
                   help="photographs: center-crop (default); .npz: 64-upscale (default)")
    p.add_argument("--limit", type=options.positive_int, default=None, help="use only the first N images")
    options.add_reading_arguments(p)
    p.add_argument("--quantile", type=options.finite_float, default=0.005,
                   help="threshold T_k with P(a_k > T_k) = this, over all positions of all images (default 0.005)")
    p.add_argument("--resolution", type=options.positive_int, default=112,
                   help="side of the masks compared, in pixels (default 112, Broden's segmentation size)")
    p.add_argument("--iou-threshold", type=options.finite_float, default=0.04,
                   help="a channel whose best IoU exceeds this is a detector (default 0.04)")
    p.add_argument("--compose", type=int, default=0, metavar="N",
                   help="compositional explanations: formulas of up to N concepts (default 0: none)")
    p.add_argument("--beam", type=options.positive_int, default=5, help="beam size of the formula search (default 5)")
    p.add_argument("--compose-units", type=options.positive_int, default=32,
                   help="with --compose: explain this many channels, highest IoU first (default 32)")
    p.add_argument("--examples", type=options.positive_int, default=6,
                   help="masked top examples per detector on the page (default 6)")
    p.add_argument("--batch-size", type=options.positive_int, default=32, help="images per forward pass (default 32)")
    p.add_argument("--out", help="output folder (default outputs/<model>-dissect-<layer>)")
    p.set_defaults(func=run)


def run(args):
    from inception_tools import runner
    from inception_tools.data import load_dataset
    from inception_tools.dissect import COLORS, check_layer, concepts_of
    from inception_tools.dissect.stage import STAGE, DissectConfig
    from inception_tools.errors import UserError
    from inception_tools.models import load_model

    config = DissectConfig(layer=args.layer, concepts=args.concepts, quantile=args.quantile,
                           resolution=args.resolution, iou_threshold=args.iou_threshold, compose=args.compose,
                           beam=args.beam, compose_units=args.compose_units, examples=args.examples,
                           batch_size=args.batch_size)
    model = load_model(args.model, args.model_path, layers=[args.layer])
    check_layer(model, args.layer)
    if args.concepts == COLORS:
        dataset = load_dataset(options.data_of(args), model, resize=args.resize, limit=args.limit, reading=options.reading_of(args))
        source = concepts_of(COLORS, model, dataset)
    else:
        if args.data is not None:
            raise UserError("--data is for --concepts colors: a Broden folder brings its own images")
        source = concepts_of(args.concepts, model, limit=args.limit)
    out = args.out or os.path.join("outputs", f"{args.model}-dissect-{args.layer}")
    result = runner.run(STAGE, config, out, inputs_identity=runner.identity(model, concepts=source.identity()),
                        reads=source.files, model=model, concepts=source)
    summary = result.by_category()
    print(f"{result.model} {result.layer}: {len(result.detectors)} of {len(result.thresholds)} channels are "
          f"detectors (best IoU > {config.iou_threshold}) over {result.n_images} images")
    for category, counts in summary.items():
        print(f"  {category}: {counts['detectors']} detectors, {counts['unique']} unique concepts")
    best, score = result.best_concept, result.best_iou
    for k in result.detectors[:10]:
        print(f"  channel {k}: {result.concept_names[best[k]]} (IoU {score[k]:.3f})")
    print(f"wrote {out}/index.html, dissection.csv, dissection.json, detectors.png")
    return 0
