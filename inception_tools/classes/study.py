"""``class_study``: the whole class-conditional activation study of some layers, in one call.

Teague's method ("Exploring Interpretability", 2024) on any model of the
toolkit: keep the images each class gets right with high confidence, collect
every unit's per-class mean, variance and activation count
(:mod:`.collect`), compare the classes by the distance of their mean and count
vectors and the overlap of their contributing sets (:mod:`.compare`), and
write the tables, heatmaps and page (:mod:`.report`).
"""

from inception_tools.blocks.build import parse_classes, real_classes
from inception_tools.classes.collect import check_settings, collect
from inception_tools.classes.report import write_report
from inception_tools.errors import UserError


def resolve_classes(model, spec=None):
    """Output indices of ``spec`` ("3,7", label ids or names), or every real class of the model."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return real_classes(model)
    if isinstance(spec, str):
        return parse_classes(spec, model)
    real = set(real_classes(model))
    bad = [c for c in spec if c not in real]
    if bad:
        raise UserError(f"unknown class {bad[0]!r} for {model.name}: give an output index, label id or label name")
    return list(spec)


def class_study(model, dataset, layers, out_dir, classes=None, threshold=0.9, position="mean", active_threshold=0.0,
                min_fraction=0.0, replicates=200, seed=0, batch_size=64, pixel_scaling="once"):
    """Run the study on ``layers`` of ``model`` over ``dataset``; write ``out_dir``; return the summary.

    Args:
        classes: output indices or a spec string (default: all real classes).
        threshold: keep images whose top-1 is the true class with at least this probability.
        position: ``mean`` | ``center`` | ``max`` of a convolutional channel (dense units as they are).
        active_threshold: a unit is active on an image when its value exceeds this.
        min_fraction: a unit contributes to a class when active on at least this fraction of its images.
        replicates: Poisson bootstrap replicates for the distance intervals (0: none).
        pixel_scaling: ``once`` or ``study`` (see :mod:`inception_tools.surgery`).

    Returns:
        The ``classes.json`` summary (settings, per-class counts, per-layer distances).
    """
    if not layers:
        raise UserError("give at least one layer (--layers L1,L2,...)")
    check_settings(threshold, position, active_threshold, min_fraction, replicates)
    for layer in layers:
        model.depth(layer)
    classes = resolve_classes(model, classes)
    stats, seen, kept, config = collect(model, dataset, layers, classes, out_dir, threshold, position,
                                        active_threshold, replicates, seed, batch_size, pixel_scaling)
    empty = [model.label_names[c] for k, c in enumerate(classes) if kept[k] == 0]
    summary = write_report(out_dir, stats, classes, model.label_names, seen, kept, config, min_fraction)
    summary["empty_classes"] = empty
    return summary
