"""Terekhov, "Are important features more interpretable?": the four headline numbers and their reliability.

The study scored the 832 features of InceptionV1 mixed5a over 50,000 downsampled ImageNet validation
images (64x64, upscaled): importance = drop in top-10-correct images under mean ablation. Its four
headline numbers: mean importance 16.0 over the 832 features; the middle group of 40 at 13.0 and the
top 40 at 86.8; interpretability I 0.24 (middle) vs 0.56 (top) from a survey one person answered.

Here :func:`inception_tools.importance` scores every channel on the images at hand (full mode: the
shared InceptionV1 and the 1,000 sample photos with the study's 64-upscale; quick mode: the embedded
convnet's ``mixed3a`` and its test digits, a stand-in); :func:`inception_tools.selection.choose_groups`
forms the groups. Importance is a count of images, so a figure over N images is also shown scaled to
50,000 (x 50,000 / N), with a 95% bootstrap interval over images. The reliability of the study's
ranking at 50,000 images is the split-half Spearman rho of the importance ranking on our N images,
projected by Spearman-Brown (:mod:`inception_tools.importance.reliability`). I needs people's answers,
which are not here.
"""

import json
import os

import numpy as np

from inception_tools.importance.measures import contributions
from inception_tools.importance.store import OutcomeStore
from inception_tools.layout import summary_json
from inception_tools.importance.reliability import default_group_size, images_needed, spearman_brown, split_half
from inception_tools.replications import page
from inception_tools.selection import choose_groups
from inception_tools.tables import read_importance

STUDY_IMAGES = 50_000
THEIRS = {"mean": 16.0, "middle": 13.0, "top": 86.8, "I_middle": 0.24, "I_top": 0.56, "channels": 832}


def bootstrap_mean(per_image, resamples=1000, seed=0):
    """95% interval of the mean over channels of a sum over images, resampling images ([C, N] input)."""
    totals = per_image.mean(axis=0)  # the mean over channels, per image
    rng = np.random.default_rng(seed)
    n = len(totals)
    draws = [totals[rng.integers(0, n, n)].sum() for _ in range(resamples)]
    return [float(v) for v in np.percentile(draws, [2.5, 97.5])]


def measure(model, layer, dataset, out_csv):
    """Scan every channel of ``layer``; return the figures the section shows (JSON-ready)."""
    from inception_tools.api import importance

    if os.path.isfile(out_csv) and os.path.isfile(summary_json(out_csv)):  # a finished scan of an earlier run
        store = OutcomeStore.open(out_csv)
        with open(summary_json(out_csv)) as f:
            summary = json.load(f)
    else:
        result = importance(model, layer, dataset, out=out_csv)
        store, summary = result.store, result.summary
    seconds = summary["seconds"]
    table = read_importance(out_csv)
    group = default_group_size(len(table.channels))  # the study's 40, at most a quarter of the channels
    members = choose_groups(table, group, group)
    n = store.n_images
    per_image = contributions(store, "importance")  # [channels, images]
    groups = {name: [m.channel for m in members if m.group == name] for name in ("top", "middle")}
    order = {int(c): i for i, c in enumerate(store.channels)}
    out = {"layer": layer, "n_images": n, "channels": len(table.channels), "scan_seconds": seconds,
           "mean": float(np.mean(table.importance)), "mean_ci": bootstrap_mean(per_image),
           "top_k": summary.get("top_k"), "resize": dataset.resize, "accuracy": summary.get("accuracy")}
    for name, channels in groups.items():
        rows = [order[c] for c in channels]
        out[name] = float(np.mean([m.importance for m in members if m.group == name]))
        out[f"{name}_ci"] = bootstrap_mean(per_image[rows])
    half = split_half(per_image, 20, 0, top=(10, group))
    rho = half["rho"]
    out["split_half_rho"] = rho
    out["projected_50000"] = spearman_brown(rho, STUDY_IMAGES / (n / 2)) if rho > 0 else float("nan")
    out["images_for_0.9"] = images_needed(rho, n / 2)
    out["top_overlap"] = half["overlap"].get(str(group))
    out["group"] = group
    return out


def rows(m, full):
    scale = STUDY_IMAGES / m["n_images"]
    where = (f"{m['n_images']} sample photos, {m['resize']}" if full else
             f"embedded convnet {m['layer']} ({m['channels']} channels), {m['n_images']} test digits, top-1")

    def scaled(name):
        lo, hi = m[f"{name}_ci"]
        return (f"{m[name]:.3g} over {m['n_images']} images [{lo:.3g}, {hi:.3g}]; x{scale:g}: {m[name] * scale:.3g} "
                f"[{lo * scale:.3g}, {hi * scale:.3g}]")

    def status(name):
        lo, hi = (v * scale for v in m[f"{name}_ci"])
        if not full:
            return page.NOT_RUNNABLE, "quick mode scores a stand-in model; full mode needs ../shared"
        if lo <= THEIRS[name] <= hi and hi - lo <= abs(THEIRS[name]):
            return page.REPRODUCED, ""
        if lo <= THEIRS[name] <= hi:
            return (page.NOT_RUNNABLE, f"{m['n_images']} images cannot resolve it: the interval at 50,000 scale "
                    f"covers it but is {hi - lo:.3g} wide; needs the study's 50,000 images")
        same_sign = (m[name] > 0) == (THEIRS[name] > 0)
        return (page.DIRECTION if same_sign else page.DIFFERS,
                "the study's 50,000 validation images are not here; other images, other interval")

    out = []
    for name, figure in (("mean", f"mean importance, all {THEIRS['channels']} features"),
                         ("middle", f"mean importance, middle group of 40 (ours {m['group']})"),
                         ("top", f"mean importance, top 40 (ours {m['group']})")):
        chosen = "; groups chosen and scored on the same images (the top group's mean is inflated)" if name != "mean" else ""
        out.append(page.Row(figure, f"{THEIRS[name]} (50,000 images)", scaled(name),
                            f"{where}; scaled linearly to 50,000{chosen}", *status(name)))
    out.append(page.Row("interpretability I, middle vs top", f"{THEIRS['I_middle']} vs {THEIRS['I_top']}",
                        "-", "needs the survey's answers (people); `inception-tools analyze` computes I from an "
                        "answers.csv (tested on synthetic answers)", page.NOT_RUNNABLE,
                        "no human answers here; the study's own answers file is not in ../shared"))
    rho, projected = m["split_half_rho"], m["projected_50000"]
    projected = f"{projected:.2f}" if rho > 0 else "none (split-half rho <= 0)"
    out.append(page.Row("reliability of the importance ranking at 50,000 images", "not reported",
                        f"split-half rho {rho:.3f} on {m['n_images'] // 2} images; projected to 50,000: "
                        f"{projected}; 0.9 needs ~{m['images_for_0.9']:,.0f} images; top-{m['group']} overlap of the "
                        f"halves {m['top_overlap']:.2f}",
                        f"{where}; Spearman-Brown from the split halves", page.OURS_ONLY,
                        "the study reports none; our projection of its 50,000-image ranking" if full else
                        "the study reports none; quick mode projects a stand-in model's"))
    return out


def section(out_dir, full, shared=None):
    """Full: InceptionV1 mixed5a on ``shared``'s sample photos (64-upscale); quick: the embedded convnet."""
    from inception_tools.data import load_dataset
    from inception_tools.models import load_model

    def compute():
        if full:
            model = load_model("InceptionV1", os.path.join(shared, "models/inceptionv1/InceptionV1.pb"))
            dataset = load_dataset(os.path.join(shared, "data/imagenet-sample"), model, resize="64-upscale")
            layer = "mixed5a"
        else:
            model = load_model("embedded")
            dataset = load_dataset("embedded", model, limit=500)
            layer = "mixed3a"
        return measure(model, layer, dataset, os.path.join(out_dir, f"terekhov-{model.name}-{layer}.csv"))

    m, seconds, reused = page.cached(out_dir, f"terekhov-{'full' if full else 'quick'}", compute)
    model_name = "InceptionV1" if full else "embedded"
    setting = (f"`inception-tools importance --model {model_name} --layer {m['layer']}` (mean ablation, all channels, "
               f"top-{m['top_k']}) on {m['n_images']} images ({m['resize']}), then `select` (top and middle "
               f"{m['group']}, the study's 40 capped at a quarter of the channels); "
               f"scan {m['scan_seconds']:.0f} s. Intervals: 95% bootstrap over images.")
    return page.Section("terekhov", "Terekhov, \"Are important features more interpretable?\"", setting,
                        rows(m, full), "", m, seconds, reused)
