"""The tuning stage: channels' responses to parametric stimuli, tuning curves and selectivity.

``compute`` draws the family's seeded stimuli (:mod:`inception_tools.tuning.stimuli`),
records every channel's response at the centre and at the best position
(:mod:`inception_tools.tuning.responses`), optionally the channels' 99th
percentile on natural images, and the statistics with bootstrap intervals
(:mod:`inception_tools.tuning.stats`). ``search`` ranks the layer's channels
whose peak passes the criterion by circular variance, and counts the
selective ones (and how their preferred values cover the circle).

Files (``write``): ``tuning.json`` (settings, per requested channel its
statistics, the search), ``channels.csv`` (every channel's statistics),
``responses.npz`` (``centre``, ``best``: float32 [primary, secondary,
replicates, channels]; ``natural_p99``), ``stimuli.png`` (replicate 0 of each
stimulus), ``curves.png`` (the requested channels compared) and
``curves/channel_<cccc>.png``, ``search.png`` with ``search``.
"""

import csv
import dataclasses
import io
from typing import Optional

import numpy as np
from PIL import Image

from inception_tools import layout, runner
from inception_tools.errors import UserError
from inception_tools.tuning import figures, responses, stats, stimuli

COLUMNS = ("channel", "peak", "peak_relative", "preferred", "preferred_lo", "preferred_hi", "selectivity",
           "selectivity_lo", "selectivity_hi", "circular_variance", "circular_variance_lo", "circular_variance_hi",
           "best_secondary")


@dataclasses.dataclass(frozen=True)
class TuningConfig:
    """What a tuning study measures.

    Attributes:
        layer: the layer.
        channels: channels to plot and report (all channels are measured).
        stimulus: the family: curve, line, grating or color.
        search: rank every channel by circular variance and count the selective ones.
        top: channels listed by the search.
        replicates, jitter, seed: jittered copies of each stimulus (replicate 0 centred), the largest
            offset in pixels, their seed.
        bootstrap: resamples of the replicates for the intervals.
        positions: natural images: positions per image for the 99th percentile.
        max_circular_variance, min_relative_peak: the selectivity criterion (see :mod:`.stats`).
        batch_size: images per forward pass.
    """

    layer: str
    channels: tuple = ()
    stimulus: str = "curve"
    search: bool = False
    top: int = 20
    replicates: int = 8
    jitter: float = 4.0
    seed: int = 0
    bootstrap: int = 200
    positions: int = 16
    max_circular_variance: float = 0.5
    min_relative_peak: float = 0.25
    batch_size: int = 32

    def __post_init__(self):
        stimuli.family(self.stimulus)
        if not self.channels and not self.search:
            raise UserError("give channels, or search for the most selective ones")
        if any(c < 0 for c in self.channels):
            raise UserError("channels must be at least 0")
        for name in ("top", "replicates", "positions", "batch_size"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.seed < 0 or self.bootstrap < 0 or not 0 <= self.jitter < 1e4:
            raise UserError("seed and bootstrap must be at least 0 and jitter between 0 and 10000 pixels")
        if not 0 < self.max_circular_variance <= 1 or not self.min_relative_peak >= 0:
            raise UserError("max_circular_variance must be in (0, 1] and min_relative_peak at least 0")


@dataclasses.dataclass
class Tuning:
    """Responses and statistics of a layer's channels to one stimulus family."""

    model: str
    layer: str
    stimulus: str
    primary: str
    period: float
    primary_values: np.ndarray
    secondary: str
    secondary_values: list
    channels: np.ndarray
    centre: np.ndarray
    best: np.ndarray
    natural_p99: Optional[np.ndarray]
    stats: dict
    selective: np.ndarray
    search: Optional[dict]

    def channel_summary(self, c):
        """One channel's statistics as JSON values."""
        row = {k: float(self.stats[k][c]) for k in COLUMNS[1:]}
        row["best_secondary"] = self.secondary_values[int(row["best_secondary"])]
        return {"channel": int(c), **row, "selective": bool(self.selective[c])}


def check(model, config):
    """Model-dependent checks before any work."""
    if config.channels:
        model.check_channels(config.layer, list(config.channels))
    model.check_pre_relu(config.layer)


def _search(result, config):
    s = result.stats
    responding = stats.strong(s, config.min_relative_peak)
    order = [int(c) for c in np.argsort(np.nan_to_num(s["circular_variance"], nan=2.0), kind="stable")
             if responding[c]]
    chosen = np.flatnonzero(result.selective)
    return {"criterion": f"circular variance 97.5% bound < {config.max_circular_variance} and peak >= "
                         f"{config.min_relative_peak} x natural 99th percentile" if result.natural_p99 is not None
            else f"circular variance 97.5% bound < {config.max_circular_variance} and peak > 0 (no natural images)",
            "responding": int((s["peak"] > 0).sum()), "strong": int(responding.sum()), "channels": int(len(s["peak"])),
            "selective": [int(c) for c in chosen], "coverage": stats.coverage(s["preferred"][chosen], result.period),
            "top": [result.channel_summary(c) for c in order[:config.top]]}


def compute(model, dataset, config, checkpoint=None):
    """Tuning of ``config.layer`` to ``config.stimulus`` (``dataset``: natural images for the 99th
    percentile, or None). Writes nothing.

    Raises:
        UserError: unknown layer, channel out of range.
    """
    checkpoint = checkpoint or runner.Checkpoint()
    check(model, config)
    fam = stimuli.family(config.stimulus)
    centre, best = responses.stimulus_responses(model, config.layer, fam, config, checkpoint)
    p99 = None
    if dataset is not None:
        p99 = responses.natural_percentile(model, config.layer, dataset, config, checkpoint)
    s = stats.channel_stats(centre, fam.primary_values, fam.period, p99, config.bootstrap, config.seed)
    result = Tuning(model.name, config.layer, fam.name, fam.primary, fam.period, np.asarray(fam.primary_values),
                    fam.secondary, list(fam.secondary_values), np.asarray(config.channels, np.int64), centre, best,
                    p99, s, stats.selective(s, config.max_circular_variance, config.min_relative_peak), None)
    if config.search:
        result.search = _search(result, config)
    return result


def _png(folder, name, figure):
    with folder.temporary(name) as tmp:
        figure.savefig(tmp, format="png", bbox_inches="tight", dpi=100)


def write(result, folder):
    """The files listed in the module docstring."""
    folder.write_npz("responses.npz", centre=result.centre, best=result.best,
                     natural_p99=result.natural_p99 if result.natural_p99 is not None else np.zeros(0, np.float32))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    for c in range(result.centre.shape[-1]):
        writer.writerow([c] + [f"{result.stats[k][c]:.6g}" for k in COLUMNS[1:]])
    with folder.open("channels.csv", "w", newline="") as f:
        f.write(text.getvalue())
    fam = stimuli.family(result.stimulus)
    sheet = np.stack([stimuli.draw(fam, (96, 96, 3), p, s) for p in fam.primary_values for s in fam.secondary_values])
    with folder.temporary("stimuli.png") as tmp:
        Image.fromarray(figures.stimulus_sheet(sheet, len(fam.secondary_values) * 4)).save(tmp, format="PNG")
    shown = [int(c) for c in result.channels] or [row["channel"] for row in result.search["top"][:4]]
    _png(folder, "curves.png", figures.compare_figure(result, shown))
    for c in shown:
        _png(folder, f"curves/channel_{c:04d}.png", figures.channel_figure(result, c))
    if result.search is not None:
        _png(folder, "search.png", figures.search_figure(result))
    folder.write_json("tuning.json", {
        "model": result.model, "layer": result.layer, "stimulus": result.stimulus, "primary": result.primary,
        "period": result.period, "primary_values": result.primary_values.tolist(), "secondary": result.secondary,
        "secondary_values": result.secondary_values, "response": "layer output (ReLU) at the centre position",
        "natural_reference": result.natural_p99 is not None, "channels": [result.channel_summary(c) for c in shown],
        "search": result.search})


def read(folder):
    """The :class:`Tuning` in a finished folder."""
    meta = folder.read_json("tuning.json")
    with np.load(folder.file("responses.npz")) as f:
        centre, best, p99 = f["centre"], f["best"], f["natural_p99"]
    p99 = p99 if p99.size else None
    fam = stimuli.family(meta["stimulus"])
    settings = folder.read_json(layout.SETTINGS_JSON)["config"]
    s = stats.channel_stats(centre, fam.primary_values, fam.period, p99, settings["bootstrap"], settings["seed"])
    return Tuning(meta["model"], meta["layer"], fam.name, fam.primary, fam.period, np.asarray(fam.primary_values),
                  fam.secondary, list(fam.secondary_values), np.asarray(settings["channels"], np.int64), centre, best,
                  p99, s, stats.selective(s, settings["max_circular_variance"], settings["min_relative_peak"]),
                  meta["search"])


STAGE = runner.Stage("tuning", compute, write,
                     outputs=("responses.npz", "channels.csv", "stimuli.png", "curves.png", "tuning.json"), read=read)
