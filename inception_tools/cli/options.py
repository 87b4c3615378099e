"""Arguments shared by several subcommands, and their checks.

Every check here runs while the arguments are parsed, before a command loads a
model or creates a file, so bad input leaves nothing behind.
"""

import argparse
import math
import os

from inception_tools.errors import UserError

def _int_between(text, low, high, what="an integer"):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not low <= value <= high:
        bounds = f"at least {low}" if high == math.inf else f"{low}-{high}"
        raise argparse.ArgumentTypeError(f"must be {bounds}, not {value}")
    return value


def positive_int(text):
    """argparse type: an integer of at least 1."""
    return _int_between(text, 1, math.inf)


def nonnegative_int(text):
    """argparse type: an integer of at least 0."""
    return _int_between(text, 0, math.inf)


def seed(text):
    """argparse type: a random seed, 0 to 2**32-1 (what NumPy's generators take)."""
    return _int_between(text, 0, 2**32 - 1, "a seed (an integer)")


def finite_float(text):
    """argparse type: a finite number (no nan, no inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def port(text):
    """argparse type: a TCP port, 0 (any free port) to 65535."""
    return _int_between(text, 0, 65535, "a port number")


MODEL_HELP = ("model: embedded (default), InceptionV1, any Lucid zoo class (ResnetV2_50_slim, ...; "
              "'inception-tools models' lists them), or a model file: frozen .pb, Keras .keras/.h5, SavedModel folder")


def add_card_argument(parser):
    parser.add_argument("--card", default=None, help="model card (JSON) of a --model file (default: <file>.card.json "
                        "beside it; Keras/SavedModel: the card written when it was first frozen)")


LAYER_HELP = {
    "ablate": "a hidden layer, named without _pre_relu (ablation replaces its output; not the model's output softmax2)",
    "visualize": "a layer with a <layer>_pre_relu tensor (what renders and examples read; not softmax2)",
    "activations": "layers named without _pre_relu (the statistics read their outputs)",
}


def add_model_arguments(parser, layer_default=None, purpose="ablate"):
    """--model, --model-path and --layer; ``purpose`` says in --help which layers the command takes
    (see ``Model.check_layer``)."""
    parser.add_argument("--model", default="embedded", help=MODEL_HELP)
    parser.add_argument("--model-path", help="local frozen GraphDef (.pb) to use instead of the zoo download")
    add_card_argument(parser)
    parser.add_argument("--layer", default=layer_default,
                        help=f"layer to study: {LAYER_HELP[purpose]} (default: the last mixed layer but one: "
                        "mixed5a for InceptionV1, mixed3a for embedded)")


def add_data_arguments(parser):
    parser.add_argument("--data", default=None,
                        help="image folder, downsampled-ImageNet .npz, 'embedded' (the embedded model's 1000 test digits, its default) or 'embedded-train' (its 4000 training digits)")
    parser.add_argument("--resize", choices=["center-crop", "64-upscale"], default=None,
                        help="photographs: center-crop (default); .npz: 64-upscale (default, the study's)")
    parser.add_argument("--limit", type=positive_int, default=None, help="use N images, class-balanced: round-robin over the classes in dataset order "
                        "(the first of each class, then the second, ...), kept in dataset order")
    parser.add_argument("--pixel-scaling", choices=["once", "study"], default="once",
                        help="'study' reproduces the original study's double scaling of pixels")
    add_reading_arguments(parser)


def add_reading_arguments(parser):
    """--cache, --store and --decode-workers: where a photo folder's decoded pixels live."""
    parser.add_argument("--cache", default=None, metavar="DIR",
                        help="keep a photo folder's decoded pixels in DIR once (memory-mapped, keyed by the files and "
                        "--resize); later commands on the same folder start at once")
    parser.add_argument("--store", choices=["auto", "memory", "stream"], default="auto",
                        help="photo folders: keep the decoded pixels in memory, or stream them from the files batch by "
                        "batch in bounded memory (default auto: memory up to 1 GiB of pixels, else stream)")
    parser.add_argument("--decode-workers", type=positive_int, default=None, metavar="N",
                        help="threads decoding photos (default: the cores, at most 4)")


def reading_of(args):
    """The :class:`~inception_tools.data.reading.Reading` of ``args`` (defaults where a command lacks the flags)."""
    from inception_tools.data.reading import Reading

    return Reading(getattr(args, "store", "auto"), getattr(args, "cache", None), getattr(args, "decode_workers", None))


def layer_of(args):
    """``--layer``, or the model's default layer from the model catalog."""
    from inception_tools.models import catalog

    return args.layer or catalog.entry(args.model, getattr(args, "card", None)).default_layer


def data_of(args):
    if args.data is not None:
        return args.data
    from inception_tools.models import catalog

    default = catalog.entry(args.model, getattr(args, "card", None)).default_data
    if default:
        return default
    raise UserError("--data is required for this model (an image folder or a downsampled-ImageNet .npz)")


def parse_channels(spec, depth):
    """'0-31', '3,7,9-12' or None (every channel) -> sorted list of channel indices.

    A reversed range (``5-2``), an empty selection and channels outside
    0..depth-1 are UserErrors; ranges are checked before they are expanded.
    """
    if spec is None:
        return list(range(depth))
    channels = set()
    for part in spec.split(","):
        part = part.strip()
        try:
            if "-" in part[1:]:
                first, last = (int(x) for x in part.split("-", 1))
            else:
                first = last = int(part)
        except ValueError:
            raise UserError(f"bad channel list {spec!r}: use forms like 0-31 or 3,7,9-12") from None
        if last < first:
            raise UserError(f"bad channel range {part!r} in {spec!r}: the first channel is larger than the last")
        if first < 0 or last >= depth:
            bad = first if first < 0 else last
            raise UserError(f"channel {bad} out of range: the layer has channels 0-{depth - 1}")
        channels.update(range(first, last + 1))
    if not channels:
        raise UserError(f"channel list {spec!r} selects no channels")
    return sorted(channels)


def default_out(args, name):
    model = args.model
    if os.sep in model or os.path.exists(model):  # a model file: its name without folders or suffix
        model = os.path.splitext(os.path.basename(model.rstrip(os.sep)))[0]
    return os.path.join("outputs", f"{model}-{layer_of(args)}", name)


def add_reliability_arguments(parser):
    parser.add_argument("--splits", type=positive_int, default=20, help="seeded random split-halves (default 20)")
    parser.add_argument("--resamples", type=positive_int, default=1000, help="bootstrap resamples of the images (default 1000)")
    parser.add_argument("--seed", type=seed, default=0, help="seed of the splits and resamples (default 0)")


def check_importance_outputs(out, inputs):
    """Refuse an importance CSV ``out`` whose files (CSV, .json, outcomes) would overwrite one of ``inputs``
    (``(what, path)`` pairs) or another study file."""
    from inception_tools import guards, layout

    files = [("importance table", out), ("importance summary", layout.summary_json(out)),
             *(("importance outcomes", path) for path in layout.outcome_files(out)),
             ("principal components", layout.directions_file(out))]
    guards.check_outputs(files, inputs, kind=layout.IMPORTANCE_CSV)
