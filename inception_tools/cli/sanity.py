"""``inception-tools sanity``: Adebayo et al.'s randomization tests of saliency methods."""

from inception_tools.cli import options
from inception_tools.cli.attribute import METHOD_NAMES, add_method_settings, method_list


def add_parser(subparsers):
    p = subparsers.add_parser(
        "sanity", help="sanity checks of saliency maps: cascading weight randomization, label randomization",
        description="Re-initializes the weights block by block from the logits down (seeded graph surgery on "
        "the frozen graph) and measures how alike each method's maps stay (Spearman of |map| and of map, SSIM, "
        "HOG) with 95%% intervals over images; with --retrain-epochs (embedded model) also trains the same "
        "architecture on permuted labels and compares. Writes cascade.png, curves.png, similarity.csv, "
        "sanity.json and report.md (which methods pass).")
    p.add_argument("--model", default="embedded", help="model name: embedded (default), InceptionV1, ...")
    p.add_argument("--model-path", help="local frozen GraphDef (.pb) to use instead of the zoo download")
    p.add_argument("--layer", default=None, help="Grad-CAM's layer, needed by gradcam and guided-gradcam "
                   "(e.g. mixed5b for InceptionV1, mixed4a for embedded)")
    p.add_argument("--data", default=None, help="image folder, downsampled-ImageNet .npz or 'embedded' (the "
                   "embedded model's default)")
    p.add_argument("--limit", type=options.positive_int, default=None, help="only the first N images")
    options.add_reading_arguments(p)
    p.add_argument("--resize", choices=["center-crop", "64-upscale"], default=None,
                   help="photographs: center-crop (default); .npz: 64-upscale (default)")
    p.add_argument("--methods", dest="method", default=None,
                   help=f"comma-separated methods among {METHOD_NAMES} (default: all seven with --layer, the five "
                   "without a layer otherwise)")
    p.add_argument("--class", dest="target", default="top",
                   help="the class explained, decided on the trained model: top (default) or a class")
    p.add_argument("--depth", type=int, default=0,
                   help="blocks the cascade randomizes from the logits down (default 0: all)")
    p.add_argument("--retrain-epochs", type=int, default=0,
                   help="data randomization test: train the embedded architecture on permuted labels for this "
                   "many epochs (default 0: no data test)")
    p.add_argument("--figure-image", type=int, default=0, help="the image the figure shows (default 0, the first)")
    p.add_argument("--pass-below", type=options.finite_float, default=0.5,
                   help="a method passes when the 95%% upper bound of mean Spearman |map| falls below this "
                   "(default 0.5)")
    add_method_settings(p, seed_help="seed of SmoothGrad's noise, the re-initialization, the label permutation "
                        "and the retraining (default 0)")
    p.add_argument("--out", default=None, help="output folder (default outputs/<model>-sanity)")
    p.set_defaults(func=run)


def run(args):
    import os

    from inception_tools import runner
    from inception_tools.data import load_dataset
    from inception_tools.models import load_model
    from inception_tools.sanity import stage

    config = stage.SanityConfig(methods=method_list(args), layer=args.layer, depth=args.depth, target=args.target,
                                ig_steps=args.ig_steps, smoothgrad_samples=args.smoothgrad_samples,
                                smoothgrad_noise=args.smoothgrad_noise, seed=args.seed, batch_size=args.batch_size,
                                retrain_epochs=args.retrain_epochs, figure_image=args.figure_image,
                                pass_below=args.pass_below)
    model = load_model(args.model, args.model_path)
    stage.check_model(model, config)
    dataset = load_dataset(options.data_of(args), model, resize=args.resize, limit=args.limit, reading=options.reading_of(args))
    stage.check(model, dataset, config)
    out = args.out or os.path.join("outputs", f"{args.model}-sanity")
    result = runner.run(stage.STAGE, config, out, model=model, dataset=dataset)
    last = result.blocks[-1]
    for method in result.methods:
        values = result.summary["cascade"][method]["spearman_abs"]
        verdict = "passes" if result.passes(method) else "fails"
        line = f"{method}: Spearman |map| after {last} {values['mean'][-1]:.3f} [{values['lo'][-1]:.3f}, " \
               f"{values['hi'][-1]:.3f}] {verdict}"
        if result.summary["data"] is not None:
            data = result.summary["data"]["methods"][method]
            line += f"; permuted labels {data['spearman_abs']['mean']:.3f} " \
                    f"({'passes' if data['passes'] else 'fails'})"
        print(line)
    print(f"wrote {os.path.join(out, stage.REPORT)}")
    return 0
