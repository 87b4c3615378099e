"""``inception-tools atlas``: activation atlases of one or more layers (Carter et al., 2019)."""

from inception_tools.cli import options


def add_parser(subparsers):
    p = subparsers.add_parser(
        "atlas", help="activation atlas: UMAP of sampled activation vectors, a grid of cell renders, a hover page",
        description="Samples --per-image random positions of every image (seeded), lays the activation vectors out "
        "in 2-D with UMAP, averages the vectors of each cell of a --grid x --grid grid, renders every cell holding "
        "at least --min-count vectors (Lucid's direction_neuron, --render-batch cells per optimization), labels "
        "each cell with the classes its average pushes most and its nearest dataset patches, and writes "
        "atlas.png and atlas.html. Rerunning the same command resumes or reads the finished folder back.")
    options.add_model_arguments(p)
    p.set_defaults(layer=None)
    p.add_argument("--data", default=None,
                   help="image folder, downsampled-ImageNet .npz or 'embedded' (default: the model's own)")
    p.add_argument("--resize", choices=["center-crop", "64-upscale"], default=None,
                   help="photographs: center-crop (default); .npz: 64-upscale (default)")
    p.add_argument("--limit", type=options.positive_int, default=None, help="use only the first N images")
    options.add_reading_arguments(p)
    p.add_argument("--grid", type=options.positive_int, default=20, help="cells per side of the grid (default 20)")
    p.add_argument("--per-image", type=options.positive_int, default=1,
                   help="random positions sampled per image and layer (default 1, the paper's)")
    p.add_argument("--seed", type=int, default=0, help="seed of positions, UMAP and renders (default 0)")
    p.add_argument("--min-count", type=options.positive_int, default=5,
                   help="render only cells averaging at least this many vectors (default 5)")
    p.add_argument("--size", type=options.positive_int, default=None,
                   help="render size in pixels (default: the model's input size)")
    p.add_argument("--steps", type=options.positive_int, default=128,
                   help="optimization steps per render (default 128)")
    p.add_argument("--render-batch", type=options.positive_int, default=32,
                   help="cells rendered together in one optimization; memory grows with it (default 32)")
    p.add_argument("--cossim-pow", type=options.finite_float, default=2.0,
                   help="objective: dot product times max(0.1, cosine)^this; 0 is the plain dot product (default 2, "
                   "Lucid's atlas recipe)")
    p.add_argument("--patches", type=options.positive_int, default=6,
                   help="nearest dataset patches per cell (default 6)")
    p.add_argument("--top-classes", type=options.positive_int, default=5, help="classes listed per cell (default 5)")
    p.add_argument("--by-density", action="store_true", help="size each render in atlas.png by its cell's count")
    p.add_argument("--engine", choices=["fast", "render_vis"], default="fast", help="render engine (default fast)")
    p.add_argument("--batch-size", type=options.positive_int, default=32, help="images per forward pass (default 32)")
    p.add_argument("--out", help="folder (default outputs/<model>-atlas-<layers>/)")
    p.set_defaults(func=run)


def run(args):
    import os

    from inception_tools import runner
    from inception_tools.atlas.stage import STAGE, AtlasConfig, check_model
    from inception_tools.data import load_dataset
    from inception_tools.models import load_model

    layers = tuple(x.strip() for x in options.layer_of(args).split(","))
    config = AtlasConfig(layers=layers, grid=args.grid, per_image=args.per_image, seed=args.seed,
                         min_count=args.min_count, size=args.size, steps=args.steps, render_batch=args.render_batch,
                         cossim_pow=args.cossim_pow, patches=args.patches, top_classes=args.top_classes,
                         by_density=args.by_density, engine=args.engine, batch_size=args.batch_size)
    model = load_model(args.model, args.model_path, layers=list(layers))
    dataset = load_dataset(options.data_of(args), model, resize=args.resize, limit=args.limit, reading=options.reading_of(args))
    out = args.out or os.path.join("outputs", f"{args.model}-atlas-{'-'.join(layers)}")
    check_model(model, dataset, config)  # before the folder is made
    result = runner.run(STAGE, config, out, model=model, dataset=dataset)
    for found in result.layers:
        print(f"{found.layer}: {len(found.vectors)} vectors ({len(dataset)} images x {config.per_image}), "
              f"{len(found.cells)} of {config.grid}x{config.grid} cells with at least {config.min_count}")
    if result.seconds:
        print("seconds (wall / CPU): " + ", ".join(f"{phase} {s:.1f} / {result.cpu_seconds[phase]:.1f}"
                                                   for phase, s in result.seconds.items()))
    else:
        print("read back the finished atlas")
    print(f"wrote {os.path.join(out, 'atlas.png')} and {os.path.join(out, 'atlas.html')}")
    return 0
