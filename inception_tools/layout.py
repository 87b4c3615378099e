"""Where the files of one study live (docs/CONTRACTS.md, "Outputs of one study").

The modules that write them (pipeline, visualization, examples, survey) and
the ones that read them (gallery, survey, pipeline) all take their paths from here.
"""

import os

IMPORTANCE_CSV = "importance.csv"
GROUPS_CSV = "groups.csv"
ANSWERS_CSV = "answers.csv"
SETTINGS_JSON = "settings.json"
EXAMPLES_JSON = "examples.json"

# An importance scan's files in its folder, ``{name}`` being its table's stem (``importance`` in a study;
# the study runner fills it in): the table, its summary, the per-image outcomes, a direction scan's
# components, an estimated scan's first-order controls, and the runner's settings, checkpoint and lock.
IMPORTANCE_TABLE = "{name}.csv"
IMPORTANCE_SUMMARY = "{name}.json"
IMPORTANCE_OUTCOMES = ("{name}.outcomes.npy", "{name}.images.npz")
IMPORTANCE_DIRECTIONS = "{name}.basis.npz"
IMPORTANCE_FIRST_ORDER = "{name}.first_order.npz"
IMPORTANCE_SETTINGS = "{name}.settings.json"
IMPORTANCE_PARTIAL = "{name}.partial"
IMPORTANCE_LOCK = "{name}.lock"


def importance_csv(study_dir):
    return os.path.join(study_dir, IMPORTANCE_CSV)


def summary_json(csv_path):
    """The JSON beside a CSV result: ``importance.json`` for ``importance.csv``, ``groups.json``..."""
    return os.path.splitext(csv_path)[0] + ".json"


def outcome_files(csv_path):
    """The per-image outcomes beside an importance CSV: ``(importance.outcomes.npy, importance.images.npz)``."""
    stem = os.path.splitext(os.fspath(csv_path))[0]
    return stem + ".outcomes.npy", stem + ".images.npz"


def directions_file(csv_path):
    """The principal components a direction scan scored, beside its CSV: ``importance.basis.npz``."""
    return os.path.splitext(os.fspath(csv_path))[0] + ".basis.npz"


def first_order_file(csv_path):
    """The first-order contributions of an estimated scan, beside its CSV: ``importance.first_order.npz``."""
    return os.path.splitext(os.fspath(csv_path))[0] + ".first_order.npz"


def groups_csv(study_dir):
    return os.path.join(study_dir, GROUPS_CSV)


def histogram_png(study_dir):
    return os.path.join(study_dir, "importance_hist.png")


def gallery_dir(study_dir):
    return os.path.join(study_dir, "gallery")


def basis_dir(study_dir):
    """The study's basis stage: neuron basis vs principal components (:mod:`inception_tools.basis`)."""
    return os.path.join(study_dir, "basis")


def answers_csv(study_dir):
    return os.path.join(study_dir, ANSWERS_CSV)


def locked_json(answers_path):
    """The locked Q1/Q2 beside an answers CSV: ``answers.locked.json``."""
    return os.path.splitext(answers_path)[0] + ".locked.json"


def settings_json(folder):
    """The settings manifest of a visualization or examples folder."""
    return os.path.join(folder, SETTINGS_JSON)


def channel_stem(channel):
    return f"channel_{channel:04d}"


def channel_file(folder, channel, suffix):
    """``<folder>/channel_<cccc><suffix>``, e.g. suffix ``.png``, ``.npy`` or ``_top.png``."""
    return os.path.join(folder, channel_stem(channel) + suffix)


def visualization_dir(study_dir, layer, objective="diversity"):
    name = layer if objective == "diversity" else f"{layer}-{objective}"
    return os.path.join(study_dir, "visualizations", name)


def examples_dir(study_dir, layer, mode="center"):
    return os.path.join(study_dir, "examples", layer if mode == "center" else f"{layer}-{mode}")


def examples_json(folder):
    """The table of an examples folder (see :func:`examples_dir`)."""
    return os.path.join(folder, EXAMPLES_JSON)


def visualization_png(study_dir, layer, channel):
    """The study's (diversity) visualization strip of ``channel``."""
    return channel_file(visualization_dir(study_dir, layer), channel, ".png")


def examples_png(study_dir, layer, channel, which):
    """``which`` is ``"top"`` (strongest activations) or ``"bottom"``."""
    return channel_file(examples_dir(study_dir, layer), channel, f"_{which}.png")


def tokens_json(answers_path):
    """The participants' secret URL tokens beside an answers CSV: ``answers.tokens.json``."""
    return os.path.splitext(answers_path)[0] + ".tokens.json"


def answers_lock(answers_path):
    """The lock a survey server holds on an answers CSV while it serves: ``answers.lock``."""
    return os.path.splitext(answers_path)[0] + ".lock"
