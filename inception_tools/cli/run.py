"""``inception-tools run``: the whole study (importance to gallery), resumable at every stage."""

from inception_tools.cli import options


def add_parser(subparsers):
    p = subparsers.add_parser("run", help="the whole study: importance, groups, visualizations, examples, gallery")
    options.add_model_arguments(p)
    options.add_data_arguments(p)
    p.add_argument("--top-k", type=options.positive_int, default=None,
                   help="default: the model's (10 for InceptionV1, 1 for embedded)")
    p.add_argument("--top", type=options.positive_int, default=None,
                   help="size of the most-important group (default 40, at most a quarter of the channels)")
    p.add_argument("--middle", type=options.positive_int, default=None,
                   help="size of the group centred on the median (default as --top)")
    p.add_argument("--score", choices=["importance", "delta-logprob", "kl", "l1"], default="importance",
                   help="measure the survey groups are chosen by (default: importance, the study's)")
    p.add_argument("--seed", type=options.seed, default=0, help="seed of the blind order and the renders (default 0)")
    p.add_argument("--steps", type=options.positive_int, default=None,
                   help="optimization steps per visualization (default 512; 256 for embedded)")
    p.add_argument("--size", type=options.positive_int, default=None,
                   help="visualization size in pixels (default: model input size)")
    p.add_argument("--per-call", type=options.positive_int, default=4, help="channels rendered together in one Lucid call")
    p.add_argument("--batch-size", type=options.positive_int, default=32)
    p.add_argument("--out", help="study folder (default outputs/<model>-<layer>)")
    p.set_defaults(func=run)


def run(args):
    import os

    from inception_tools.data import load_dataset
    from inception_tools.models import load_model
    from inception_tools.pipeline import StudyConfig, run_study

    layer = options.layer_of(args)
    model = load_model(args.model, args.model_path, card=args.card, layers=[layer])
    model.check_layer(layer, "ablate")
    model.check_layer(layer, "visualize")
    if args.top_k is not None:
        model.check_top_k(args.top_k)
    dataset = load_dataset(options.data_of(args), model, resize=args.resize, limit=args.limit, reading=options.reading_of(args))
    study_dir = args.out or os.path.dirname(options.default_out(args, "x"))
    entry = model.entry
    steps = args.steps or entry.steps
    top = args.top or entry.group_size_for(model.depth(layer))
    top_k = model.default_top_k if args.top_k is None else args.top_k
    config = StudyConfig(layer, top_k, top, args.middle or top, args.seed, steps, args.size, args.per_call,
                         args.batch_size, args.pixel_scaling, args.score)
    run_study(model, dataset, config, study_dir, report=print)
    return 0
