"""Where the files of one study live (docs/CONTRACTS.md, "Outputs of one study").

The modules that write them (visualization, examples) and the ones that read
them (gallery, survey) all take their paths from here.
"""

import os


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


def visualization_png(study_dir, layer, channel):
    """The study's (diversity) visualization strip of ``channel``."""
    return channel_file(visualization_dir(study_dir, layer), channel, ".png")


def examples_png(study_dir, layer, channel, which):
    """``which`` is ``"top"`` (strongest activations) or ``"bottom"``."""
    return channel_file(examples_dir(study_dir, layer), channel, f"_{which}.png")
