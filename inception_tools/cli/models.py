"""``inception-tools models``: the models known by name, a model's layers, a proposed card for a file."""

import os

from inception_tools.cli import options


def add_parser(subparsers):
    p = subparsers.add_parser(
        "models",
        help="list the models known by name (catalog and Lucid's zoo), a model's layers, or propose a model card",
        description="Without arguments: every model known by name (the catalog and every class of "
        "lucid.modelzoo.vision_models) with its number of layers, default layer, input and whether a local "
        "file is known. With --list-layers MODEL: that model's layers (a model file: the layers its card "
        "declares, then the conv/concat/add nodes the graph proposes). With --write-card FILE: write a proposed "
        "card beside a model file (check its value_range and channel_order: they are guessed).",
    )
    p.add_argument("--list-layers", metavar="MODEL", default=None,
                   help="a model name or model file whose layers to list")
    options.add_card_argument(p)
    p.add_argument("--write-card", metavar="FILE", default=None,
                   help="write FILE.card.json proposed from the model file FILE (refuses to replace one)")
    p.set_defaults(func=run)


def run(args):
    from inception_tools.models import listing

    if args.write_card:
        path = listing.write_proposed_card(args.write_card)
        print(f"wrote {path}: check value_range and channel_order (guessed), labels and default_layer")
        return 0
    if args.list_layers:
        for line in listing.layer_lines(args.list_layers, args.card):
            print(line)
        return 0
    for line in listing.model_lines():
        print(line)
    print(f"\nany of these as --model NAME; your own model as --model FILE (.pb, .keras, .h5, SavedModel folder) "
          f"with FILE.card.json beside it ({os.path.join('docs', 'guides', 'models.md')})")
    return 0
