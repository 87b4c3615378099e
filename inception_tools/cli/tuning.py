"""``inception-tools tuning``: tuning curves of channels to seeded parametric stimuli."""

from inception_tools.cli import options


def add_parser(subparsers):
    p = subparsers.add_parser(
        "tuning", help="tuning curves to synthetic stimuli (curves, lines/edges, gratings, colour patches)",
        description="Draws seeded parametric stimuli at the model's input size, records every channel's response "
        "(layer output) at the centre position and at the best position, and writes per channel the tuning curve "
        "(PNG), the preferred value, peak/mean, circular variance (bootstrap 95% intervals over the stimulus "
        "jitter) and the peak relative to the channel's 99th percentile on natural images. --search ranks the "
        "layer's channels whose peak passes --min-relative-peak by circular variance, counts the selective ones "
        "and says how their preferred values cover the circle.")
    p.add_argument("--model", default="embedded", help="model name: embedded (default), InceptionV1, ...")
    p.add_argument("--model-path", help="local frozen GraphDef (.pb) to use instead of the zoo download")
    p.add_argument("--layer", required=True, help="layer to measure (e.g. mixed3b)")
    p.add_argument("--channels", default=None, help="channels to plot and report, e.g. 379,385 or 0-15 "
                   "(default: with --search, the four most selective)")
    p.add_argument("--stimulus", default="curve",
                   help="stimulus family: curve (default; orientation x radius), line (orientation x thin/thick/"
                   "edge), grating (orientation x frequency), color (hue x saturation)")
    p.add_argument("--search", action="store_true", help="rank every channel of the layer by selectivity")
    p.add_argument("--top", type=options.positive_int, default=20, help="--search: channels listed (default 20)")
    p.add_argument("--replicates", type=options.positive_int, default=8,
                   help="jittered copies of each stimulus, the first centred (default 8)")
    p.add_argument("--jitter", type=options.finite_float, default=4.0,
                   help="largest offset of a copy in pixels (gratings: a random phase instead; default 4)")
    p.add_argument("--bootstrap", type=int, default=200, help="resamples of the copies for the intervals (default 200)")
    p.add_argument("--max-circular-variance", type=options.finite_float, default=0.5,
                   help="selective: the circular variance's 97.5%% bound below this (default 0.5)")
    p.add_argument("--min-relative-peak", type=options.finite_float, default=0.25,
                   help="selective: peak at least this fraction of the natural 99th percentile (default 0.25)")
    p.add_argument("--data", default=None, help="natural images for the 99th percentile: an image folder or .npz "
                   "(default: the model's own data if it has one, embedded's digits; else none, and the relative "
                   "peak is not computed)")
    p.add_argument("--limit", type=options.positive_int, default=None, help="use only the first N natural images")
    options.add_reading_arguments(p)
    p.add_argument("--positions", type=options.positive_int, default=16,
                   help="natural images: random positions per image for the 99th percentile (default 16)")
    p.add_argument("--seed", type=int, default=0, help="seed of the jitter, positions and bootstrap (default 0)")
    p.add_argument("--batch-size", type=options.positive_int, default=32)
    p.add_argument("--out", help="output folder (default outputs/<model>-tuning-<layer>-<stimulus>)")
    p.set_defaults(func=run)


def run(args):
    from inception_tools import runner
    from inception_tools.data import load_dataset
    from inception_tools.models import catalog, load_model
    from inception_tools.tuning.stage import STAGE, TuningConfig, check

    probe = TuningConfig(layer=args.layer, stimulus=args.stimulus, search=True)  # stimulus checked before loading
    model = load_model(args.model, args.model_path)
    channels = options.parse_channels(args.channels, model.depth(args.layer)) if args.channels else []
    config = TuningConfig(layer=probe.layer, channels=tuple(channels), stimulus=args.stimulus, search=args.search,
                          top=args.top, replicates=args.replicates, jitter=args.jitter, seed=args.seed,
                          bootstrap=args.bootstrap, positions=args.positions,
                          max_circular_variance=args.max_circular_variance,
                          min_relative_peak=args.min_relative_peak, batch_size=args.batch_size)
    check(model, config)
    source = args.data or catalog.entry(args.model).default_data or None
    dataset = load_dataset(source, model, limit=args.limit, reading=options.reading_of(args)) if source else None
    out = args.out or f"outputs/{args.model}-tuning-{args.layer}-{args.stimulus}"
    result = runner.run(STAGE, config, out, model=model, dataset=dataset)
    unit = "" if result.natural_p99 is not None else " (no natural images: relative peak not computed)"
    for c in result.channels:
        row = result.channel_summary(c)
        print(f"{args.layer}:{c}: preferred {result.primary} {row['preferred']:.0f} "
              f"[{row['preferred_lo']:.0f}, {row['preferred_hi']:.0f}], circular variance "
              f"{row['circular_variance']:.2f} [{row['circular_variance_lo']:.2f}, {row['circular_variance_hi']:.2f}], "
              f"peak/mean {row['selectivity']:.2f}, peak/natural p99 {row['peak_relative']:.2f}{unit}")
    if result.search is not None:
        found = result.search
        print(f"search: {len(found['selective'])} of {found['channels']} channels selective ({found['criterion']}); "
              f"preferred values cover {found['coverage']['covered']} of {found['coverage']['bins']} arcs, "
              f"largest gap {found['coverage']['largest_gap']:.0f} degrees")
        print("most selective: " + ", ".join(f"{r['channel']} ({r['preferred']:.0f}, cv {r['circular_variance']:.2f})"
                                             for r in found["top"]))
    print(f"folder: {out}")
    return 0
