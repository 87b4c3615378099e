"""A dissection as files and back: ``dissection.npz`` (every array), ``dissection.csv``, ``dissection.json``.

``dissection.csv`` has one row per channel: ``channel, threshold,
threshold_error, mask_fraction`` (the share of compared pixels in its mask,
about the quantile), ``concept, category, iou`` (its best concept),
``detector`` (1 when the IoU exceeds the cut), and ``formula, formula_iou``
(its compositional explanation, empty when not searched).
``dissection.json`` summarizes: the settings, the threshold method, the
detectors per category and the detectors by IoU.
"""

from __future__ import annotations

import csv

import numpy as np

from inception_tools.dissect import quantile

COLUMNS = ("channel", "threshold", "threshold_error", "mask_fraction", "concept", "category", "iou", "iou_lo",
           "iou_hi", "detector", "formula", "formula_iou")
Z95 = 1.959964
ARRAYS = ("thresholds", "threshold_error", "group_intersection", "group_unit_area", "group_concept_area", "top_rows",
          "top_values", "example_channels", "examples", "formula_channels", "formula_iou")


def to_arrays(result) -> dict:
    """The result's arrays and names, for ``np.savez`` (strings as unicode arrays, no pickles)."""
    arrays = {name: getattr(result, name) for name in ARRAYS}
    arrays.update(concept_names=np.array(result.concept_names, str), formulas=np.array(result.formulas, str),
                  concept_categories=np.array(result.concept_categories, str), n_images=np.int64(result.n_images))
    return arrays


def from_arrays(arrays, model, layer, config):
    """The keyword arguments of a ``Dissection`` from :func:`to_arrays`' arrays."""
    fields = {name: np.array(arrays[name]) for name in ARRAYS}
    fields.update(model=model, layer=layer, config=config, n_images=int(arrays["n_images"]),
                  concept_names=[str(s) for s in arrays["concept_names"]],
                  concept_categories=[str(s) for s in arrays["concept_categories"]],
                  formulas=[str(s) for s in arrays["formulas"]])
    return fields


def interval(result):
    """(lo [K], hi [K]): the 95% interval of each channel's best IoU (+- 1.96 jackknife SE, within [0, 1])."""
    score, se = result.best_iou, result.best_iou_se
    return np.clip(score - Z95 * se, 0, 1), np.clip(score + Z95 * se, 0, 1)


def rows(result):
    """The rows of ``dissection.csv`` (dicts), channel order."""
    pixels = result.n_images * result.config.resolution ** 2
    best, score = result.best_concept, result.best_iou
    lo, hi = interval(result)
    area = result.unit_area
    formulas = dict(zip(result.formula_channels.tolist(), zip(result.formulas, result.formula_iou.tolist())))
    out = []
    for k in range(len(result.thresholds)):
        formula, formula_iou = formulas.get(k, ("", None))
        out.append({"channel": k, "threshold": f"{result.thresholds[k]:.6g}",
                    "threshold_error": f"{result.threshold_error[k]:.3g}",
                    "mask_fraction": f"{area[k] / pixels:.5f}",
                    "concept": result.concept_names[best[k]], "category": result.concept_categories[best[k]],
                    "iou": f"{score[k]:.5f}", "iou_lo": f"{lo[k]:.5f}", "iou_hi": f"{hi[k]:.5f}",
                    "detector": int(score[k] > result.config.iou_threshold),
                    "formula": formula, "formula_iou": "" if formula_iou is None else f"{formula_iou:.5f}"})
    return out


def write_csv(result, folder, name):
    with folder.open(name, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows(result))


def summary(result) -> dict:
    """What ``dissection.json`` holds."""
    best, score = result.best_concept, result.best_iou
    lo, hi = interval(result)
    found = result.detectors
    return {
        "model": result.model, "layer": result.layer, "n_images": result.n_images,
        "channels": len(result.thresholds), "concepts": len(result.concept_names),
        "resolution": result.config.resolution, "quantile": result.config.quantile,
        "threshold_method": f"two-pass streaming histogram ({quantile.BINS} doubling bins, then {quantile.BINS} "
                            "sub-bins of the bracketing bins); error bound per channel in threshold_error",
        "max_threshold_error": float(result.threshold_error.max(initial=0.0)),
        "iou_threshold": result.config.iou_threshold,
        "detectors": len(found),
        "detectors_above_cut_at_95": int((lo[found] > result.config.iou_threshold).sum()),
        "by_category": result.by_category(),
        "top_detectors": [{"channel": int(k), "concept": result.concept_names[best[k]],
                           "iou": round(float(score[k]), 5), "iou_95": [round(float(lo[k]), 5), round(float(hi[k]), 5)]}
                          for k in found],
    }
