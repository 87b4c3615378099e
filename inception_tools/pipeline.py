"""The study end to end, for one model, layer and dataset.

Stages, each writing into the study folder and skipping what is already there
(so an interrupted run, started again, resumes at the stage it was in):

1. importance of every channel (fast engine)       -> importance.csv, importance.json
2. the two survey groups in blind order              -> groups.csv
3. dataset examples of every channel (one pass)      -> examples/<layer>/
4. Lucid visualizations of the channels in the groups -> visualizations/<layer>/
5. importance histogram and the gallery              -> importance_hist.png, gallery/
6. neuron basis vs principal components of the layer -> basis/ (see :mod:`inception_tools.basis.stage`)
"""

import json
import os

from inception_tools.basis.stage import basis_study
from inception_tools.gallery import build_gallery
from inception_tools.importance import score_layer
from inception_tools.importance.fast import fast_outcomes
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
        report(f"1/6 importance: {path} exists, kept")
        return
    net = Network(model, layer, pixel_scaling=pixel_scaling)
    summary = score_layer(net, dataset, list(range(model.depth(layer))), path, top_k, "mean", batch_size,
                          outcomes=fast_outcomes, method="fast", meta={"data": dataset.source})
    acc = summary["accuracy"]
    report(f"1/6 importance: {len(dataset)} images, unablated top-1 {acc['top1']:.1%}, top-5 {acc['top5']:.1%}, "
           f"top-10 {acc['top10']:.1%}; importance uses top-{top_k}; wrote {path}")


def groups_stage(importance_csv, path, top, middle, seed, report):
    members = select_groups(importance_csv, top, middle, seed)
    if not os.path.isfile(path):
        write_groups(members, path)
    means = group_means(members)
    report("2/6 groups: " + ", ".join(f"{name} {size} channels, mean importance {mean:.2f}"
                                       for name, (size, mean) in means.items()) + f"; {path}")
    return sorted(m.feature_ind for m in members)


def run_study(model, layer, dataset, study_dir, top_k, top=40, middle=40, seed=0, steps=512, size=None,
              per_call=4, batch_size=32, pixel_scaling="once", report=print):
    """Run every stage; return the path of the gallery's index.html."""
    paths = study_paths(study_dir)
    importance_stage(model, layer, dataset, paths["importance.csv"], top_k, batch_size, pixel_scaling, report)
    channels = groups_stage(paths["importance.csv"], paths["groups.csv"], top, middle, seed, report)
    dataset_examples(model, layer, dataset, study_dir, batch_size=batch_size, pixel_scaling=pixel_scaling)
    report(f"3/6 dataset examples: every channel of {layer}")
    render_channels(model, layer, channels, study_dir, steps=steps, size=size, seed=seed, per_call=per_call)
    report(f"4/6 visualizations: {len(channels)} channels, {steps} steps")
    importance_histogram(paths["importance.csv"], paths["importance_hist.png"], paths["groups.csv"])
    index = build_gallery(study_dir, top_n=top)
    report(f"5/6 gallery: {index}; histogram: {paths['importance_hist.png']}")
    basis_stage(model, layer, dataset, os.path.join(study_dir, "basis"), top_k, seed, steps, size, batch_size,
                pixel_scaling, report)
    return index


def basis_stage(model, layer, dataset, out_dir, top_k, seed, steps, size, batch_size, pixel_scaling, report):
    """PCA vs neuron basis: explained variance, ablation curves, strip and render of PC 1."""
    net = Network(model, layer, pixel_scaling=pixel_scaling)
    try:
        basis_study(net, dataset, out_dir, seed=seed, top_k=top_k, batch_size=batch_size, vectors=[0], render=True,
                    steps=steps, size=size, report=lambda line: None)
    finally:
        net.close()
    with open(os.path.join(out_dir, "basis.json")) as f:
        k = json.load(f)["explained_variance_k"]["layer"]
    report(f"6/6 basis: 80% of the variance in {k['pcs']['0.8']} PCs vs {k['neurons']['0.8']} neurons; "
           f"ablation curves, strip and render of PC 1 in {out_dir}")
