"""``inception-tools fetch-model``: download a zoo model into the cache (once)."""


def add_parser(subparsers):
    p = subparsers.add_parser("fetch-model", help="download a Lucid model-zoo model into the local cache")
    p.add_argument("--model", default="InceptionV1", help="a catalog name or any Lucid zoo class (default InceptionV1)")
    p.set_defaults(func=run)


def run(args):
    from inception_tools.models import load_model

    model = load_model(args.model)
    print(f"{model.name}: {model.path} ({len(model.layer_depths)} layers, {model.num_classes} classes)")
    return 0
