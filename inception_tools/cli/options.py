"""Arguments shared by several subcommands, and their checks."""

import os

from inception_tools.errors import UserError


def add_model_arguments(parser, layer_default=None):
    parser.add_argument("--model", default="embedded", help="model name: embedded (default), InceptionV1, ...")
    parser.add_argument("--model-path", help="local frozen GraphDef (.pb) to use instead of the zoo download")
    parser.add_argument("--layer", default=layer_default, help="layer to study (default: the last mixed layer but one: mixed5a for InceptionV1, mixed3a for embedded)")


def add_data_arguments(parser):
    parser.add_argument("--data", default=None,
                        help="image folder, downsampled-ImageNet .npz, 'embedded' (the embedded model's 1000 test digits, its default) or 'embedded-train' (its 4000 training digits)")
    parser.add_argument("--resize", choices=["center-crop", "64-upscale"], default=None,
                        help="photographs: center-crop (default); .npz: 64-upscale (default, the study's)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N images")
    parser.add_argument("--pixel-scaling", choices=["once", "study"], default="once",
                        help="'study' reproduces the original study's double scaling of pixels")


DEFAULT_LAYERS = {"InceptionV1": "mixed5a", "InceptionV1_adv_finetuned": "mixed5a", "embedded": "mixed3a",
                  "embedded-mlp": "dense2"}
EMBEDDED_MODELS = ("embedded", "embedded-mlp")  # models whose default data is the digits test split


def layer_of(args):
    return args.layer or DEFAULT_LAYERS.get(args.model, "mixed5a")


def data_of(args):
    if args.data is not None:
        return args.data
    if args.model in EMBEDDED_MODELS:
        return "embedded"
    raise UserError("--data is required for this model (an image folder or a downsampled-ImageNet .npz)")


def parse_channels(spec, depth):
    """'0-31', '3,7,9-12' or None (every channel) -> sorted list of channel indices."""
    if spec is None:
        return list(range(depth))
    channels = set()
    for part in spec.split(","):
        part = part.strip()
        try:
            if "-" in part:
                first, last = (int(x) for x in part.split("-", 1))
                channels.update(range(first, last + 1))
            else:
                channels.add(int(part))
        except ValueError:
            raise UserError(f"bad channel list {spec!r}: use forms like 0-31 or 3,7,9-12") from None
    out_of_range = sorted(c for c in channels if not 0 <= c < depth)
    if out_of_range:
        raise UserError(f"channel {out_of_range[0]} out of range: the layer has channels 0-{depth - 1}")
    return sorted(channels)


def default_out(args, name):
    return os.path.join("outputs", f"{args.model}-{layer_of(args)}", name)


def add_reliability_arguments(parser):
    parser.add_argument("--splits", type=int, default=20, help="seeded random split-halves (default 20)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples of the images (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the splits and resamples (default 0)")
