"""The study end to end, for one model, layer and dataset.

Stages, each writing into the study folder and skipping what is already there
(so an interrupted run, started again, resumes at the stage it was in):

1. importance of every channel (fast engine)       -> importance.csv, importance.json
2. the two survey groups in blind order              -> groups.csv
3. dataset examples of every channel (one pass)      -> examples/<layer>/
4. Lucid visualizations of the channels in the groups -> visualizations/<layer>/
5. importance histogram and the gallery              -> importance_hist.png, gallery/
"""

import os

from inception_tools.gallery import build_gallery
from inception_tools.importance import score_layer
from inception_tools.importance.summary import score_warning
from inception_tools.examples import dataset_examples
from inception_tools.plots import importance_histogram
from inception_tools.selection import group_means, select_groups, write_groups
from inception_tools.surgery import Network
from inception_tools.visualization import render_channels


def study_paths(study_dir):
    return {name: os.path.join(study_dir, name)
            for name in ("importance.csv", "groups.csv", "importance_hist.png")}


def importance_stage(model, layer, dataset, path, top_k, batch_size, pixel_scaling, report):
    if os.path.isfile(path):
        report(f"1/5 importance: {path} exists, kept")
        return
    net = Network(model, layer, pixel_scaling=pixel_scaling)
    summary = score_layer(net, dataset, list(range(model.depth(layer))), path, top_k, "mean", batch_size,
                          meta={"data": dataset.source}, report=report).summary
    acc = summary["accuracy"]
    report(f"1/5 importance: {len(dataset)} images, unablated top-1 {acc['top1']:.1%}, top-5 {acc['top5']:.1%}, "
           f"top-10 {acc['top10']:.1%}; importance uses top-{top_k}; wrote {path}")


def groups_stage(importance_csv, path, top, middle, seed, report, score="importance"):
    warning = score_warning(importance_csv, score)
    if warning:
        report(warning)
    members = select_groups(importance_csv, top, middle, seed, score)
    if not os.path.isfile(path):
        write_groups(members, path)
    means = group_means(members)
    report("2/5 groups: " + ", ".join(f"{name} {size} channels, mean {score} {mean:.3g}"
                                       for name, (size, mean) in means.items()) + f"; {path}")
    return sorted(m.feature_ind for m in members)


def run_study(model, layer, dataset, study_dir, top_k, top=40, middle=40, seed=0, steps=512, size=None,
              per_call=4, batch_size=32, pixel_scaling="once", score="importance", report=print):
    """Run every stage; return the path of the gallery's index.html.

    ``score`` is the measure the groups are chosen by (default: the study's importance).
    """
    paths = study_paths(study_dir)
    importance_stage(model, layer, dataset, paths["importance.csv"], top_k, batch_size, pixel_scaling, report)
    channels = groups_stage(paths["importance.csv"], paths["groups.csv"], top, middle, seed, report, score)
    dataset_examples(model, layer, dataset, study_dir, batch_size=batch_size, pixel_scaling=pixel_scaling)
    report(f"3/5 dataset examples: every channel of {layer}")
    render_channels(model, layer, channels, study_dir, steps=steps, size=size, seed=seed, per_call=per_call)
    report(f"4/5 visualizations: {len(channels)} channels, {steps} steps")
    importance_histogram(paths["importance.csv"], paths["importance_hist.png"], paths["groups.csv"])
    index = build_gallery(study_dir, top_n=top, score=score)
    report(f"5/5 gallery: {index}; histogram: {paths['importance_hist.png']}")
    return index
