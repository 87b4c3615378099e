"""What the sanity checks found, in numbers and words: intervals per step, and which methods pass.

The criterion (ours; the paper judges by eye and by these curves): a method
*passes* a randomization test when its maps lose the ranking of the trained
model's maps, i.e. the upper end of the 95% interval of the mean Spearman
rank correlation of ``|map|`` (``spearman_abs``) is below ``pass_below``
(default 0.5) after the whole cascade (model parameter test) or for the
permuted-label model (data test). The other measures are reported beside it.
"""

from __future__ import annotations

import numpy as np

from inception_tools.sanity.similarity import MEASURES, interval

MAIN = "spearman_abs"


def summary(result, pass_below: float, seed: int = 0, resamples: int = 1000) -> dict:
    """JSON-ready summary of a :class:`~inception_tools.sanity.stage.Sanity` result."""
    mean, lo, hi = interval(result.similarity, seed, resamples)  # [steps, methods, measures]
    main = MEASURES.index(MAIN)
    out = {"pass_below": pass_below, "measure": MAIN, "n_images": int(result.similarity.shape[-1]),
           "blocks": list(result.blocks), "seconds": {"trained": round(result.trained_seconds, 1),
                                                      "steps": [round(float(s), 1) for s in result.step_seconds]},
           "cascade": {}, "data": None}
    for k, method in enumerate(result.methods):
        out["cascade"][method] = {
            measure: {"mean": mean[:, k, j].round(4).tolist(), "lo": lo[:, k, j].round(4).tolist(),
                      "hi": hi[:, k, j].round(4).tolist()} for j, measure in enumerate(MEASURES)}
        out["cascade"][method]["passes"] = bool(hi[-1, k, main] < pass_below)
    if result.data_similarity is not None:
        mean, lo, hi = interval(result.data_similarity, seed, resamples)  # [methods, measures]
        out["data"] = {"retrain": result.retrain, "methods": {}}
        for k, method in enumerate(result.methods):
            entry = {measure: {"mean": round(float(mean[k, j]), 4), "lo": round(float(lo[k, j]), 4),
                               "hi": round(float(hi[k, j]), 4)} for j, measure in enumerate(MEASURES)}
            entry["passes"] = bool(hi[k, main] < pass_below)
            out["data"]["methods"][method] = entry
    return out


def csv_rows(found: dict) -> list:
    """Rows ``test,step,block,method,measure,mean,lo,hi`` of a :func:`summary`."""
    rows = []
    for method, measures in found["cascade"].items():
        for measure in MEASURES:
            values = measures[measure]
            for step, block in enumerate(found["blocks"]):
                rows.append(["cascade", step + 1, block, method, measure, values["mean"][step], values["lo"][step],
                             values["hi"][step]])
    if found["data"] is not None:
        for method, measures in found["data"]["methods"].items():
            for measure in MEASURES:
                v = measures[measure]
                rows.append(["data", "", "", method, measure, v["mean"], v["lo"], v["hi"]])
    return rows


def _verdict(passes: bool) -> str:
    return "passes" if passes else "fails"


def markdown(found: dict, model_name: str) -> str:
    """``report.md``: the verdict table and what it means."""
    last = found["blocks"][-1]
    lines = [f"# Sanity checks of saliency maps: {model_name}, {found['n_images']} images", "",
             f"Criterion: a method passes when the upper end of the 95% bootstrap interval of the mean "
             f"{MAIN} (Spearman rank correlation of |map| with the trained model's map) is below "
             f"{found['pass_below']}.", "",
             f"## Model parameter randomization (cascade from {found['blocks'][0]} down to {last})", "",
             "| method | " + " | ".join(f"{m} after {last}" for m in MEASURES) + " | verdict |",
             "|---|" + "---|" * (len(MEASURES) + 1)]
    for method, measures in found["cascade"].items():
        cells = [f"{measures[m]['mean'][-1]:.3f} [{measures[m]['lo'][-1]:.3f}, {measures[m]['hi'][-1]:.3f}]"
                 for m in MEASURES]
        lines.append(f"| {method} | " + " | ".join(cells) + f" | {_verdict(measures['passes'])} |")
    lines += ["", f"{MAIN} after each cumulative step (mean over images):", "",
              "| method | " + " | ".join(found["blocks"]) + " |", "|---|" + "---|" * len(found["blocks"])]
    for method, measures in found["cascade"].items():
        lines.append(f"| {method} | " + " | ".join(f"{v:.3f}" for v in measures[MAIN]["mean"]) + " |")
    if found["data"] is not None:
        r = found["data"]["retrain"]
        lines += ["", "## Data randomization (same architecture trained on permuted labels)", "",
                  f"Trained {r['epochs']} epochs in {r['train_seconds']} s (seed {r['seed']}): top-1 "
                  f"{r['train_accuracy_on_permuted_labels']:.3f} on the permuted training labels, "
                  f"{r['test_accuracy_on_real_labels']:.3f} on the real test labels.", "",
                  "| method | " + " | ".join(MEASURES) + " | verdict |", "|---|" + "---|" * (len(MEASURES) + 1)]
        for method, measures in found["data"]["methods"].items():
            cells = [f"{measures[m]['mean']:.3f} [{measures[m]['lo']:.3f}, {measures[m]['hi']:.3f}]" for m in MEASURES]
            lines.append(f"| {method} | " + " | ".join(cells) + f" | {_verdict(measures['passes'])} |")
    seconds = found["seconds"]
    lines += ["", f"Time: trained model's maps {seconds['trained']} s; cascade steps "
              f"{sum(seconds['steps']):.0f} s in all ({np.mean(seconds['steps']):.0f} s per step)."]
    return "\n".join(lines) + "\n"
