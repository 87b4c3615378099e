"""An importance scan estimated from a cheap first-order pass, with or without exact ablation on a subsample.

``estimator="control-variate"``: the first-order contributions of every channel on every image
(:mod:`.first_order`), the exact ablation on a seeded random ``exact_fraction`` of the images (the
same engines and outcome store as an exact scan, resumable), and each channel's mean estimated by
:mod:`.control_variate`. ``estimator="first-order"``: the first-order means alone, an
approximation with no exact work (its intervals and reliability say how noisy it is, not how
biased).

The table has every column of an exact scan, with these differences: the means and their
intervals are the estimates; ``importance`` is the estimated count (N x the estimated mean change of
correctness, not an integer); ``newly_wrong``, ``newly_right`` and ``mcnemar_p`` are those of the exact
subsample; extra columns name the estimator, the exact images and, per measure, ``r_<column>`` (the
control's correlation with the exact outcomes) and ``n_eff_<column>`` (the images an exact scan would
need for the same variance). The first-order contributions are kept beside the CSV
(``importance.first_order.npz``, written by :mod:`.stage`).

With ``until`` (control-variate only) the exact subsample grows: the images are taken in a seeded
random order (:func:`.control_variate.nested_order`, ``estimator_seed``), the first
``exact_fraction`` of them ablated exactly, then ``chunk`` more at a time, until the split-half
reliability of the ``score`` measure's control-variate estimate (:meth:`.control_variate.Estimator.split_half`:
all images split in halves, each half the whole estimator on its own images, exact ones included),
projected by Spearman-Brown to all images with the exact images done, reaches the target, or every
image is exact. Each subsample contains the one before, so the exact work is kept, and a resumed scan
redoes none of it. The first-order pass covers every image from the start, so ``shuffle_seed``
plays no part.

With ``basis`` the rows are principal components (:mod:`.directions`), the control their
first-order change (:mod:`.first_order`), the exact ablation the direction engines'.

Progress goes to the :class:`inception_tools.runner.Checkpoint` it is given (the study runner's
``importance.partial/`` or memory): the groups ``values`` and ``first_order``, the exact subsample's
store in ``store/``.
"""

import time

import numpy as np

from inception_tools import layout, progress
from inception_tools.importance import control_variate as cv
from inception_tools.importance import reliability as rel
from inception_tools.importance.first_order import CLASSES, first_order_pass
from inception_tools.importance.measures import contributions
from inception_tools.importance.outcomes import baseline, real_classes
from inception_tools.importance.store import OutcomeStore
from inception_tools.importance.table import channel_rows
from inception_tools.errors import UserError
from inception_tools.mapped import MappedRows
from inception_tools.tables import MEASURES


def _load(path):
    try:
        with np.load(path, allow_pickle=False) as saved:
            return {key: saved[key] for key in saved.files}
    except FileNotFoundError:
        return None


def estimator_settings(config):
    """What an estimated scan's results depend on (its partial folder's and importance.json's ``estimator``)."""
    settings = {"kind": config.estimator, "exact_fraction": config.exact_fraction, "seed": config.estimator_seed}
    if config.until is not None:
        settings["grows"] = "nested subsamples until reliable"
    return settings


def controls(checkpoint, net, dataset, state, batch_size):
    """The first-order contributions of every channel (or direction: ``state["vectors"]``) on every image,
    and the unablated top-1/5/10 accuracy (saved in ``checkpoint``, a :class:`inception_tools.runner.Checkpoint`)."""
    saved = checkpoint.load("first_order")
    if saved is None:
        kept = checkpoint.path("first_order_base_logp.npy")
        base = baseline(net, dataset, 1, batch_size, None if kept is None else MappedRows.create(
            kept, np.float64, (len(dataset), int(real_classes(net.model).sum()))))
        saved = {name.replace("-", "_"): values for name, values in first_order_pass(
            net, dataset, base.real_logp, state["values"], batch_size, state.get("vectors")).items()}
        saved["accuracy"] = np.array([base.accuracy[f"top{k}"] for k in (1, 5, 10)])
        checkpoint.save("first_order", **saved)
    return {name: saved[name.replace("-", "_")] for name in MEASURES}, saved["accuracy"]


def _state(checkpoint, net, dataset, config, directions):
    """The ablated channels' values (the centre of directions) and, for a basis, its principal components."""
    from inception_tools.importance.directions import principal_directions
    from inception_tools.importance.run import _ablation_values

    state = checkpoint.load("values")
    if state is None:
        state = {"values": _ablation_values(config.ablation, net, dataset, config.batch_size)}
        if directions:
            pcs = principal_directions(net, dataset, directions["components"], directions["seed"], config.batch_size)
            state.update(vectors=pcs.vectors, variances=pcs.variances, total_variance=pcs.total_variance,
                         sample_center=pcs.center)
        checkpoint.save("values", **state)
    return state


def grow(engine, store, channels, control, order, config, report):
    """Ablate the images of ``order`` exactly, ``config.exact_fraction`` of them first and then ``config.chunk``
    at a time, until the control-variate estimate of ``config.score`` is projected reliable at ``config.until``.

    Args:
        store: the outcome store over the images in ``order``; control: float [C, N] of ``config.score``.

    Returns:
        ``(exact images, trajectory)``: the trajectory lists exact images, split-half rho and projected
        reliability after each step.
    """
    n = len(order)
    rows = [store.row_of[c] for c in channels]
    stops = list(range(cv.subsample_size(n, config.exact_fraction), n, config.chunk)) + [n]
    trajectory, done = [], 0
    with progress.bar(total=len(channels) * n, unit="img", desc=f"{engine.name} {engine.net.layer}") as bar:
        for stop in stops:
            engine.fill(store, channels, done, stop, bar.update)
            done = stop
            estimator = cv.Estimator(contributions(store, config.score, rows, slice(0, stop)), control, order[:stop])
            half = estimator.split_half(config.splits, config.seed)
            trajectory.append({"exact_images": stop, "images": n, "rho": half["rho"],
                               "projected": half["spearman_brown"]})
            report(f"until reliable (control-variate): {stop} of {n} images exact, split-half rho {half['rho']:.3f}, "
                   f"projected {half['spearman_brown']:.3f} (target {config.until})")
            if half["spearman_brown"] >= config.until:
                break
    return done, trajectory


def _exact_engine(checkpoint, net, exact, config, settings, state, distribute):
    """The outcome store of the exact images ``exact`` in ``checkpoint`` (made once) and the engine that fills it."""
    from inception_tools.importance.run import STORE, _engine, new_store

    directions = settings.get("basis")
    folder = checkpoint.path(STORE)
    store = None if folder is None else OutcomeStore.resume(folder)
    if store is None:
        rows = directions["components"] if directions else None
        store, _ = new_store(folder, net, exact, settings["top_k"], config.batch_size, rows)
    engine = _engine(config.engine, net, exact, state, settings["top_k"], config.batch_size, config.shortcut,
                     directions)
    return (distribute(engine) if distribute is not None else engine), store


def estimate(net, plan, config, checkpoint, report, meta=None, distribute=None):
    """The estimated scan (see the module docstring) of ``plan``'s channels or components
    (:func:`inception_tools.importance.run.plan`, whose settings hold :func:`estimator_settings`).

    Returns:
        ``(rows, summary, store, directions, first_order)``: as :func:`inception_tools.importance.run.exact`
        (``store``: the exact subsample's outcomes, None for ``first-order``), and the arrays of
        ``importance.first_order.npz``.
    """
    from inception_tools.importance.run import describe_directions, directions_arrays, scan

    dataset, settings = plan.dataset, plan.settings
    started = time.time()
    directions, channels = plan.directions, plan.channels
    state = _state(checkpoint, net, dataset, config, directions)
    every, accuracy = controls(checkpoint, net, dataset, state, config.batch_size)
    control = {name: array[channels] for name, array in every.items()}
    n = len(dataset)
    view, trajectory = None, None
    if config.estimator == "first-order":
        columns = np.arange(0)
        estimators = {name: cv.Estimator(None, control[name], columns) for name in MEASURES}
    else:
        if config.until is None:
            order = cv.subsample(n, config.exact_fraction, config.estimator_seed)
        else:
            order = cv.nested_order(n, config.estimator_seed)
        engine, store = _exact_engine(checkpoint, net, dataset.reordered(order), config, settings, state,
                                      distribute)
        if config.until is None:
            report(f"exact ablation on {len(order)} of {n} images (seed {config.estimator_seed}); "
                   + engine.describe(len(channels), len(order)))
            scan(engine, store, channels, report=report)
            n_exact = len(order)
        else:
            report(f"exact ablation on a growing subsample of the {n} images (seed {config.estimator_seed}); "
                   + engine.describe(len(channels), n))
            n_exact, trajectory = grow(engine, store, channels, control[config.score], order, config, report)
        columns = order[:n_exact]
        view = store.view(channels, n_exact)
        estimators = {name: cv.Estimator(contributions(view, name), control[name], columns) for name in MEASURES}
    reliability, bounds = cv.assess(estimators, config.splits, config.seed, config.resamples)
    nan = np.full(len(channels), np.nan)
    fits = {name: (cv.fit(e.exact, e.control, e.columns) if e.exact is not None else
                   {"mean": e.means(), "r": nan, "n_eff": nan}) for name, e in estimators.items()}
    rows = channel_rows(view, net.model.name, net.layer, bounds,
                        {"n_images": n, "means": {name: fit["mean"] for name, fit in fits.items()}}, channels)
    for i, row in enumerate(rows):
        row.update(estimator=config.estimator, exact_images=len(columns))
        for name, fit in fits.items():
            column = MEASURES[name].column
            row[f"r_{column}"] = repr(float(fit["r"][i]))
            row[f"n_eff_{column}"] = repr(float(fit["n_eff"][i]))
    summary = dict(settings, n_images_used=n, dataset_skipped=getattr(dataset, "skipped", 0), channels=len(channels),
                   accuracy=dict(zip(("top1", "top5", "top10"), map(float, accuracy))), method=config.engine,
                   seconds=round(time.time() - started, 1), reliability=reliability, **(meta or {}))
    summary["estimator"] = dict(
        settings["estimator"], exact_images=int(len(columns)), exact_fraction_used=len(columns) / n,
        surrogate_classes=CLASSES,
        median_r={name: float(np.nanmedian(fit["r"])) if view is not None else None for name, fit in fits.items()},
        median_n_eff={name: float(np.nanmedian(fit["n_eff"])) if view is not None else None
                      for name, fit in fits.items()})
    if trajectory is not None:
        summary["until_reliable"] = {"target": config.until, "score": config.score, "chunk": config.chunk,
                                     "trajectory": trajectory}
    if directions:
        describe_directions(state, directions, rows, summary)
    first_order = dict(channels=np.asarray(channels), exact_columns=columns,
                       **{name.replace("-", "_"): control[name] for name in MEASURES})
    for name in reliability["measures"]:
        report(f"reliability ({config.estimator}): " + rel.summary_line(reliability, name))
    return rows, summary, view, directions_arrays(state, directions) if directions else None, first_order


def reassess(csv_path, splits=20, seed=0, resamples=1000, top=None):
    """The reliability report of an estimated table, from the controls and exact outcomes kept beside it."""
    from inception_tools.importance.store import OutcomeStore

    saved = _load(layout.first_order_file(csv_path))
    if saved is None:
        raise UserError(f"{layout.first_order_file(csv_path)} not found: score {csv_path} again to keep its controls")
    store = OutcomeStore.open(csv_path) if len(saved["exact_columns"]) else None
    estimators = {name: cv.Estimator(None if store is None else contributions(store, name),
                                     saved[name.replace("-", "_")], saved["exact_columns"]) for name in MEASURES}
    return cv.assess(estimators, splits, seed, resamples, top)[0]
