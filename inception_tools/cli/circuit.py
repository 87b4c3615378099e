"""``inception-tools circuit``: a channel's strongest inputs and outputs through expanded weights."""

from inception_tools.cli import options


def add_parser(subparsers):
    p = subparsers.add_parser(
        "circuit", help="expanded weights: a channel's strongest inputs and outputs, with renders and kernels",
        description="Reads the frozen graph's weight constants and composes the linear path (ReLU as identity, "
        "max pool as the average pool of the same size, LRN as its scale at zero) from --inputs-from to --layer: "
        "one spatial kernel per (input, output) channel. Ranks the channel's inputs, and its outputs in the next "
        "layer, by summed kernel; checks the kernels against TensorFlow's Jacobian of the linearized graph; "
        "writes circuit.json, kernels.npy, out_kernels.npy, matrix.npy/.png and index.html.")
    p.add_argument("--model", default="embedded", help="model name: embedded (default), InceptionV1, ...")
    p.add_argument("--model-path", help="local frozen GraphDef (.pb) to use instead of the zoo download")
    p.add_argument("--layer", required=True, help="layer of the channel (e.g. mixed3b)")
    p.add_argument("--channel", type=int, required=True, help="the channel (0-based)")
    p.add_argument("--inputs-from", default=None,
                   help="earlier layer whose channels are the inputs (default: the layer below --layer)")
    p.add_argument("--top", type=options.positive_int, default=8,
                   help="inputs and outputs of each sign to show (default 8)")
    p.add_argument("--size", type=options.positive_int, default=128, help="render size in pixels (default 128)")
    p.add_argument("--steps", type=int, default=256,
                   help="render optimization steps (default 256; 0: no renders)")
    p.add_argument("--seed", type=int, default=0, help="render seed (default 0)")
    p.add_argument("--out", help="output folder (default outputs/<model>-circuit-<layer>-<channel>)")
    p.set_defaults(func=run)


def run(args):
    from inception_tools import runner
    from inception_tools.circuit.stage import STAGE, CircuitConfig, check
    from inception_tools.models import load_model

    config = CircuitConfig(layer=args.layer, channel=args.channel, inputs_from=args.inputs_from, top=args.top,
                           render_size=args.size, render_steps=args.steps, seed=args.seed)
    model = load_model(args.model, args.model_path)
    check(model, config)  # unknown layers, channel out of range: refused before the folder exists
    out = args.out or f"outputs/{args.model}-circuit-{args.layer}-{args.channel}"
    result = runner.run(STAGE, config, out, model=model)
    summary = result.summary()
    for key, layer in (("top_inputs", result.inputs_from), ("top_outputs", result.next_layer)):
        for sign, rows in (summary[key] or {}).items():
            listed = ", ".join(f"{r['channel']} ({r['sum']:+.3g})" for r in rows)
            print(f"{sign} {'inputs from' if key == 'top_inputs' else 'outputs to'} {layer}: {listed or 'none'}")
    print(f"Jacobian check: max relative error {result.jacobian_error:.2g}")
    print(f"page: {out}/index.html")
    return 0
