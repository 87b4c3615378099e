"""One resumable pass over a dataset: per-class unit statistics of several layers.

Every image goes through the model once (one ``session.run`` per batch fetches
every layer asked for and the output probabilities). An image counts for its
class when the model gets it right with confidence: top-1 is the true class
and the true class's probability is at least ``threshold`` (Teague's filter).
Its unit values (see :func:`~inception_tools.classes.stats.unit_values`) are
merged into that layer's :class:`~inception_tools.classes.stats.ClassAccumulator`.

The pass saves its state after every finished batch in the
:class:`~inception_tools.runner.Checkpoint` it is given (group ``classes``:
the statistics, the images done and the pass settings), so a killed run,
started again by the study runner on the same folder, checks the settings and
goes on from there. :func:`state_arrays` is also the form of the finished
``stats.npz`` (written by :mod:`inception_tools.classes.stage`).

Each batch's forward pass is a :class:`BlockJob`; with ``distribute`` the jobs
run elsewhere (Ray workers, :mod:`inception_tools.scale.classes`) and their
results are folded in here in batch order, so the statistics and the saved
state are those of one process.
"""

import json
import logging

import numpy as np

from inception_tools import progress, runner
from inception_tools.classes.contribution import TrueClassGradients, attribution_signs, keep_masks
from inception_tools.classes.stats import ClassAccumulator, confident_correct, unit_values
from inception_tools.data.dataset import batch_ranges
from inception_tools.errors import UserError
from inception_tools.importance.run import dataset_fingerprint
from inception_tools.surgery import Network

STATS_FILE = "stats.npz"
CHECKPOINT = "classes"
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


def state_arrays(config, next_image, stats, seen, kept):
    """The pass's state as named arrays: images done, tallies, settings (JSON) and every layer's statistics."""
    arrays = {"next": np.int64(next_image), "seen": seen, "kept": kept, "config": json.dumps(config)}
    for layer, layer_stats in stats.items():
        arrays.update(layer_stats.state(layer))
    return arrays


def load_state(state, stats):
    """Fill ``stats`` from :func:`state_arrays`' form; return ``(next_image, seen, kept)``."""
    for layer, layer_stats in stats.items():
        layer_stats.load(state, layer)
    return int(state["next"]), np.array(state["seen"]), np.array(state["kept"])


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


def collect(model, dataset, config, classes, checkpoint=None, distribute=None):
    """Per-class statistics of ``config.layers`` over ``dataset``, resumable (see the module docstring).

    Args:
        config: a :class:`~inception_tools.classes.config.ClassesConfig` (its ``classes`` resolved to
            the output indices ``classes``).
        checkpoint: a :class:`~inception_tools.runner.Checkpoint` the state is saved in after every batch
            (default: one in memory).
        distribute: optional ``(job, dataset, batches) -> iterable of (batch, result)`` in batch order
            that runs the :class:`BlockJob` of each batch elsewhere, e.g.
            :func:`inception_tools.scale.classes.distributor` (Ray); the statistics take each result as
            it comes, as in one process.

    ``config.definition`` says which values count for a class (``active``, ``source``,
    ``source-gradient``; :mod:`.contribution`).

    Returns:
        ``(stats, seen, kept, settings)``: ``{layer: ClassAccumulator}`` (rows in the order of ``classes``),
        images of each class seen and kept, and the pass settings.

    Raises:
        UserError: the checkpoint holds a pass made with other settings.
    """
    checkpoint = checkpoint or runner.Checkpoint()
    layers = list(config.layers)
    for layer in layers:
        model.depth(layer)
    replicates = fit_replicates(config.replicates, len(classes), sum(model.depth(layer) for layer in layers))
    settings = pass_config(model, dataset, config, classes, replicates)
    keep = keep_masks(model, layers) if config.definition == "source" else None
    stats = {layer: ClassAccumulator(len(classes), model.depth(layer), config.active_threshold, replicates, config.seed)
             for layer in layers}
    seen, kept = np.zeros(len(classes), np.int64), np.zeros(len(classes), np.int64)
    next_image = 0
    saved = checkpoint.load(CHECKPOINT)
    if saved is not None:
        _refuse_other("the saved progress of the pass", json.loads(str(saved["config"])), settings)
        next_image, seen, kept = load_state(saved, stats)
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
                checkpoint.save(CHECKPOINT, **state_arrays(settings, stop, stats, seen, kept))
                bar.update(stop - start)
    finally:
        if net is not None:
            net.close()
    return stats, seen, kept, settings
