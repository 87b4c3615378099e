"""One resumable pass over a dataset: per-class unit statistics of several layers.

Every image goes through the model once (one ``session.run`` per batch fetches
every layer asked for and the output probabilities). An image counts for its
class when the model gets it right with confidence: top-1 is the true class
and the true class's probability is at least ``threshold`` (Teague's filter).
Its unit values (see :func:`~inception_tools.classes.stats.unit_values`) are
merged into that layer's :class:`~inception_tools.classes.stats.ClassAccumulator`.

While the pass runs, ``<out>/classes.partial/`` holds its settings
(``config.json``) and the statistics after the last finished batch
(``state.npz``, replaced atomically after every batch); the same command,
run again, checks the settings and goes on from there. The finished
statistics are written atomically to ``<out>/stats.npz`` (with their
settings) and the partial folder removed; a later run with the same settings
reads them instead of passing over the data again, one with other settings is
refused.

Each batch's forward pass is a :class:`BlockJob`; with ``distribute`` the jobs
run elsewhere (Ray workers, :mod:`inception_tools.scale.classes`) and their
results are folded in here in batch order, so the statistics and the saved
state are those of one process.
"""

import json
import logging
import os
import shutil

import numpy as np

from inception_tools import progress
from inception_tools.atomic import atomic_open, atomic_path
from inception_tools.classes.contribution import TrueClassGradients, attribution_signs, keep_masks
from inception_tools.classes.stats import ClassAccumulator, confident_correct, unit_values
from inception_tools.data.dataset import batch_ranges
from inception_tools.errors import UserError
from inception_tools.importance.run import dataset_fingerprint
from inception_tools.surgery import Network

STATS_FILE = "stats.npz"
PARTIAL_DIR = "classes.partial"
BOOTSTRAP_BUDGET = 256 << 20  # bytes of bootstrap sums across layers
log = logging.getLogger(__name__)


def fit_replicates(replicates, n_classes, units):
    """Bootstrap replicates that fit :data:`BOOTSTRAP_BUDGET` for ``n_classes`` x ``units`` (all layers)."""
    per_replicate = 8 * n_classes * units
    return int(min(replicates, BOOTSTRAP_BUDGET // max(per_replicate, 1)))


def pass_config(model, dataset, config, classes, replicates):
    """The pass's settings as stored with its state: ``config``'s, the classes, the replicates that fit."""
    settings = {
        "model": model.name,
        "layers": list(config.layers),
        "classes": [int(c) for c in classes],
        "threshold": config.threshold,
        "position": config.position,
        "active_threshold": config.active_threshold,
        "bootstrap": replicates,
        "seed": config.seed,
        "batch_size": config.batch_size,
        "pixel_scaling": config.pixel_scaling,
        "dataset": getattr(dataset, "source", ""),
        "n_images": len(dataset),
        "fingerprint": dataset_fingerprint(model, dataset),
    }
    if config.definition != "active":  # runs made before the definitions existed keep their settings
        settings["definition"] = config.definition
    return settings


def _save(path, config, next_image, stats, seen, kept):
    arrays = {"next": np.int64(next_image), "seen": seen, "kept": kept, "config": json.dumps(config)}
    for layer, layer_stats in stats.items():
        arrays.update(layer_stats.state(layer))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def _load(path, stats):
    with np.load(path) as state:
        for layer, layer_stats in stats.items():
            layer_stats.load(state, layer)
        return int(state["next"]), np.array(state["seen"]), np.array(state["kept"])


def _saved_config(path):
    with np.load(path) as state:
        return json.loads(str(state["config"]))


def _refuse_other(where, saved, config):
    if saved != config:
        changed = sorted(k for k in set(config) | set(saved) if saved.get(k) != config.get(k))
        raise UserError(f"{where} holds results made with other settings ({', '.join(changed)}); "
                        "delete it or choose another output folder")


class BlockJob:
    """What the pass computes of one block of images, in one process or on a Ray worker (picklable).

    Called with a :class:`~inception_tools.surgery.Network` of the model and the images, it returns
    the unit values [n, C] (float64) of every layer and which images are confidently right (bool [n]).
    Under a ``source`` definition (:mod:`.contribution`) the values that do not contribute to the
    image's true class are zero: ``keep`` gives ``{layer: bool [classes, C]}`` (path signs), or
    ``definition="source-gradient"`` computes the sign per image from the true-class gradient.
    """

    def __init__(self, layers, output_name, position, threshold, definition="active", keep=None):
        self.layers = list(layers)
        self.output_name = output_name
        self.position = position
        self.threshold = threshold
        self.definition = definition
        self.keep = keep

    def __call__(self, net, dataset, start, stop):
        fetches = [net.T(layer) for layer in self.layers] + [net.T(self.output_name)]
        images, labels = dataset.images(start, stop), dataset.labels[start:stop]
        if self.definition == "source-gradient":
            (*acts, probs), grads = TrueClassGradients.of(net, self.layers).fetch(fetches, images, labels)
        else:
            *acts, probs = net.run(fetches, images)
        confident = confident_correct(probs, labels, self.threshold)
        values = [unit_values(layer_acts, self.position) for layer_acts in acts]
        if self.definition == "source-gradient":
            values = [v * attribution_signs(a, g) for v, a, g in zip(values, acts, grads)]
        elif self.definition == "source":
            values = [v * self.keep[layer][labels] for v, layer in zip(values, self.layers)]
        return values, confident


def collect(model, dataset, config, classes, out_dir, distribute=None):
    """Per-class statistics of ``config.layers`` over ``dataset``, resumable (see the module docstring).

    Args:
        config: a :class:`~inception_tools.classes.config.ClassesConfig` (its ``classes`` resolved to
            the output indices ``classes``).
        distribute: optional ``(job, dataset, batches) -> iterable of (batch, result)`` in batch order
            that runs the :class:`BlockJob` of each batch elsewhere, e.g.
            :func:`inception_tools.scale.classes.distributor` (Ray); the statistics take each result as
            it comes, as in one process.

    ``config.definition`` says which values count for a class (``active``, ``source``,
    ``source-gradient``; :mod:`.contribution`).

    Returns:
        ``(stats, seen, kept, settings)``: ``{layer: ClassAccumulator}`` (rows in the order of ``classes``),
        images of each class seen and kept, and the pass settings.
    """
    layers = list(config.layers)
    for layer in layers:
        model.depth(layer)
    replicates = fit_replicates(config.replicates, len(classes), sum(model.depth(layer) for layer in layers))
    settings = pass_config(model, dataset, config, classes, replicates)
    keep = keep_masks(model, layers) if config.definition == "source" else None
    stats = {layer: ClassAccumulator(len(classes), model.depth(layer), config.active_threshold, replicates, config.seed)
             for layer in layers}
    final = os.path.join(out_dir, STATS_FILE)
    if os.path.isfile(final):
        _refuse_other(final, _saved_config(final), settings)
        next_image, seen, kept = _load(final, stats)
        return stats, seen, kept, settings
    partial = os.path.join(out_dir, PARTIAL_DIR)
    config_path = os.path.join(partial, "config.json")
    state_path = os.path.join(partial, "state.npz")
    if os.path.isfile(config_path):
        with open(config_path) as f:
            _refuse_other(partial, json.load(f), settings)
    else:
        os.makedirs(partial, exist_ok=True)
        with atomic_open(config_path) as f:
            json.dump(settings, f, indent=1)
    seen, kept = np.zeros(len(classes), np.int64), np.zeros(len(classes), np.int64)
    next_image = 0
    if os.path.isfile(state_path):
        next_image, seen, kept = _load(state_path, stats)
        log.info(f"resuming at image {next_image} of {len(dataset)}")
    position_of = np.full(model.num_classes, -1)
    position_of[list(classes)] = np.arange(len(classes))
    job = BlockJob(layers, model.output_name, config.position, config.threshold, config.definition, keep)
    todo = batch_ranges(next_image, len(dataset), config.batch_size)
    net = Network(model, layers[0], config.pixel_scaling) if distribute is None else None
    results = ((batch, job(net, dataset, *batch)) for batch in todo) if net else distribute(job, dataset, todo)
    try:
        with progress.bar(total=len(dataset), initial=next_image, desc="classes", unit="img") as bar:
            for (start, stop), (values, confident) in results:
                which = position_of[dataset.labels[start:stop]]
                np.add.at(seen, which[which >= 0], 1)
                which = np.where(confident, which, -1)
                np.add.at(kept, which[which >= 0], 1)
                rows = np.arange(start, stop)
                for layer, layer_values in zip(layers, values):
                    stats[layer].update(layer_values, which, rows)
                _save(state_path, settings, stop, stats, seen, kept)
                bar.update(stop - start)
    finally:
        if net is not None:
            net.close()
    _save(final, settings, len(dataset), stats, seen, kept)
    shutil.rmtree(partial)
    return stats, seen, kept, settings
