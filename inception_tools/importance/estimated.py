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
(``importance.first_order.npz``).
"""

import json
import os
import time

import numpy as np

from inception_tools import layout, runner
from inception_tools.atomic import atomic_open, atomic_path
from inception_tools.importance import control_variate as cv
from inception_tools.importance import reliability as rel
from inception_tools.importance.first_order import CLASSES, first_order_pass
from inception_tools.importance.measures import contributions
from inception_tools.importance.outcomes import baseline
from inception_tools.importance.table import ESTIMATOR_COLUMNS, channel_rows, write_csv
from inception_tools.errors import UserError
from inception_tools.tables import MEASURES


def _load(path):
    if not os.path.isfile(path):
        return None
    with np.load(path, allow_pickle=False) as saved:
        return {key: saved[key] for key in saved.files}


def _save(path, **arrays):
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def controls(checkpoint, net, dataset, values, batch_size):
    """The first-order contributions of every channel on every image, and the unablated top-1/5/10
    accuracy (saved in ``checkpoint``, a :class:`inception_tools.runner.Checkpoint`)."""
    saved = checkpoint.load("first_order")
    if saved is None:
        base = baseline(net, dataset, 1, batch_size)
        saved = {name.replace("-", "_"): values for name, values in
                 first_order_pass(net, dataset, base.real_logp, values, batch_size).items()}
        saved["accuracy"] = np.array([base.accuracy[f"top{k}"] for k in (1, 5, 10)])
        checkpoint.save("first_order", **saved)
    return {name: saved[name.replace("-", "_")] for name in MEASURES}, saved["accuracy"]


def score(net, dataset, config, out_csv, settings, report, meta=None, distribute=None):
    """The estimated scan (see the module docstring) of ``config``'s channels; ``settings``: the partial
    folder's (as an exact scan's, with the estimator).

    Returns:
        ``(rows, summary)``; the exact subsample's outcomes are saved beside ``out_csv`` (not for ``first-order``).
    """
    from inception_tools.importance.run import Partial, _ablation_values, _engine, _start, scan

    started = time.time()
    channels = list(range(net.model.depth(net.layer))) if config.channels is None else list(config.channels)
    top_k = settings["top_k"]
    partial = Partial(out_csv, settings)
    checkpoint = runner.Checkpoint(partial.dir)
    saved = checkpoint.load("values")
    if saved is None:
        saved = {"values": _ablation_values(config.ablation, net, dataset, config.batch_size)}
        checkpoint.save("values", **saved)
    values = saved["values"]
    every, accuracy = controls(checkpoint, net, dataset, values, config.batch_size)
    control = {name: array[channels] for name, array in every.items()}
    n = len(dataset)
    view = None
    if config.estimator == "first-order":
        columns = np.arange(0)
        estimators = {name: cv.Estimator(None, control[name], columns) for name in MEASURES}
    else:
        columns = cv.subsample(n, config.exact_fraction, config.estimator_seed)
        exact = dataset.reordered(columns)
        state, store = _start(partial, net, exact, top_k, config.ablation, config.batch_size, values=values)
        engine = _engine(config.engine, net, exact, state, top_k, config.batch_size, config.shortcut, None)
        engine = distribute(engine) if distribute is not None else engine
        report(f"exact ablation on {len(columns)} of {n} images (seed {config.estimator_seed}); "
               + engine.describe(len(channels), len(columns)))
        scan(engine, store, channels, report=report)
        view = store.view(channels, len(columns))
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
    summary["estimator"] = {
        "kind": config.estimator, "exact_fraction": config.exact_fraction if view is not None else 0.0,
        "exact_images": int(len(columns)), "seed": config.estimator_seed, "surrogate_classes": CLASSES,
        "median_r": {name: float(np.nanmedian(fit["r"])) if view is not None else None for name, fit in fits.items()},
        "median_n_eff": {name: float(np.nanmedian(fit["n_eff"])) if view is not None else None
                         for name, fit in fits.items()},
    }
    _save(layout.first_order_file(out_csv), channels=np.asarray(channels), exact_columns=columns,
          **{name.replace("-", "_"): control[name] for name in MEASURES})
    if view is not None:
        view.save(out_csv, channels, view.n_images)
    write_csv(rows, out_csv, ESTIMATOR_COLUMNS)
    with atomic_open(layout.summary_json(out_csv)) as f:
        json.dump(summary, f, indent=1)
    partial.remove()
    for name in reliability["measures"]:
        report(f"reliability ({config.estimator}): " + rel.summary_line(reliability, name))
    return rows, summary


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
