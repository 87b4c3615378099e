"""``inception-tools attribute``: saliency maps of one image or a dataset, every method side by side."""

from inception_tools.cli import options

METHOD_NAMES = "gradient, grad-x-input, smoothgrad, integrated-gradients, guided-backprop, gradcam, guided-gradcam"


def add_parser(subparsers):
    p = subparsers.add_parser(
        "attribute", help="saliency maps (Grad-CAM, guided backprop, gradients, SmoothGrad, integrated gradients...)",
        description="Maps at the input resolution of the class score (the target's logit) with respect to the "
        "pixels, for one image (--image) or a dataset (--data): saved as .npy, as overlays, and as one page per "
        "image with every method side by side (<out>/index.html).")
    p.add_argument("--model", default="embedded", help="model name: embedded (default), InceptionV1, ...")
    p.add_argument("--model-path", help="local frozen GraphDef (.pb) to use instead of the zoo download")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", help="one image file")
    source.add_argument("--data", help="image folder, downsampled-ImageNet .npz or 'embedded'")
    p.add_argument("--limit", type=options.positive_int, default=None, help="with --data: only the first N images")
    options.add_reading_arguments(p)
    p.add_argument("--resize", default=None,
                   help="--image: center-crop (default) or squash (whole image, aspect not kept); --data: as in "
                   "the other commands")
    p.add_argument("--class", dest="target", default="top",
                   help="the class explained: top (default: each image's highest logit), an output index, a label "
                   "id or a label name such as 'tiger cat'")
    p.add_argument("--method", default=None,
                   help=f"comma-separated methods among {METHOD_NAMES} (default: all seven with --layer, the five "
                   "without a layer otherwise)")
    p.add_argument("--layer", default=None, help="Grad-CAM's layer, needed by gradcam and guided-gradcam "
                   "(e.g. mixed5b for InceptionV1, mixed4a for embedded)")
    add_method_settings(p)
    p.add_argument("--out", default=None, help="output folder (default outputs/<model>-attribution-<image or data>)")
    p.set_defaults(func=run)


def add_method_settings(p, seed_help="seed of SmoothGrad's noise (default 0)"):
    """The methods' settings, shared with ``sanity``."""
    p.add_argument("--ig-steps", type=options.positive_int, default=16,
                   help="integrated gradients: midpoint-rule points from the black baseline (default 16)")
    p.add_argument("--smoothgrad-samples", type=options.positive_int, default=8,
                   help="SmoothGrad: noisy copies per image (default 8)")
    p.add_argument("--smoothgrad-noise", type=options.finite_float, default=0.15,
                   help="SmoothGrad: noise std as a fraction of the pixel range (default 0.15)")
    p.add_argument("--seed", type=int, default=0, help=seed_help)
    p.add_argument("--batch-size", type=options.positive_int, default=8,
                   help="images, path points or noisy copies per run (default 8)")


def method_list(args):
    """``--method`` as a tuple; the default depends on ``--layer`` (see its help)."""
    from inception_tools.attribution import methods as registry

    if args.method is None:
        return tuple(m for m in registry.METHODS if args.layer is not None or not registry.needs_layer([m]))
    return tuple(m.strip() for m in args.method.split(",") if m.strip())


def default_out(args):
    import os

    source = os.path.splitext(os.path.basename(args.image))[0] if args.image else \
        os.path.basename(os.path.normpath(str(args.data))) or "data"
    return os.path.join("outputs", f"{args.model}-attribution-{source}")


def run(args):
    import os

    from inception_tools import runner
    from inception_tools.attribution import stage
    from inception_tools.attribution.images import image_dataset
    from inception_tools.data import load_dataset
    from inception_tools.errors import UserError
    from inception_tools.models import load_model

    if args.image is not None and args.limit is not None:
        raise UserError("--limit goes with --data, not --image")
    config = stage.AttributeConfig(methods=method_list(args), target=args.target, layer=args.layer,
                                   ig_steps=args.ig_steps, smoothgrad_samples=args.smoothgrad_samples,
                                   smoothgrad_noise=args.smoothgrad_noise, seed=args.seed, batch_size=args.batch_size)
    model = load_model(args.model, args.model_path)
    stage.check(model, config)
    if args.image is not None:
        dataset = image_dataset(args.image, model, args.resize or "center-crop")
        reads = [args.image]
    else:
        dataset = load_dataset(args.data, model, resize=args.resize, limit=args.limit, reading=options.reading_of(args))
        reads = [args.data]
    out = args.out or default_out(args)
    result = runner.run(stage.STAGE, config, out, reads=reads, model=model, dataset=dataset)
    for image_id, name, score in zip(result.ids[:5], result.class_names, result.scores):
        print(f"{image_id}: {name} (logit {score:.2f})")
    print(f"wrote {len(result.ids)} image(s) x {len(result.methods)} method(s): {os.path.join(out, stage.INDEX)}")
    return 0
