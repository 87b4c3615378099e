"""The study end to end, for one model, layer and dataset.

Stages, each writing into the study folder and skipping what is already there
(so an interrupted run, started again, resumes at the stage it was in), but
only when it was made under the same settings; otherwise the run stops with
one line naming the settings that differ (:mod:`inception_tools.manifest`),
before anything is overwritten:

1. importance of every channel (fast engine)       -> importance.csv, importance.json
2. the two survey groups in blind order              -> groups.csv
3. dataset examples of every channel (one pass)      -> examples/<layer>/
4. Lucid visualizations of the channels in the groups -> visualizations/<layer>/
5. importance histogram and the gallery              -> importance_hist.png, gallery/
6. neuron basis vs principal components of the layer -> basis/ (see :mod:`inception_tools.basis.stage`)

Stage 1 keeps the study runner's ``importance.settings.json`` (:mod:`inception_tools.importance.stage`;
a study folder made before it is adopted when ``importance.json`` records the same settings); stage 2 compares
groups.csv itself with the groups these settings choose; stages 3, 4 and 6 run on the study runner too
(:mod:`inception_tools.runner`: ``settings.json``, lock and ``.partial/`` in their folders); stage 5 is
rebuilt every time.
"""

import dataclasses
import logging
import os
from typing import Optional

from inception_tools import layout, renders, runner
from inception_tools.basis.config import BasisConfig
from inception_tools.basis.stage import basis_study
from inception_tools.errors import UserError
from inception_tools.examples import ExamplesConfig, dataset_examples
from inception_tools.gallery import build_gallery
from inception_tools.importance import ImportanceConfig, score_layer
from inception_tools.importance.summary import score_warning
from inception_tools.plots import importance_histogram
from inception_tools.selection import group_means, select_groups
from inception_tools.surgery import Network
from inception_tools.tables import read_groups, write_groups

log = logging.getLogger(__name__)


def importance_stage(model, layer, dataset, path, top_k, batch_size, pixel_scaling, report):
    """Stage 1 through the study runner (:func:`inception_tools.importance.stage.score_layer`): a finished
    ``path`` is read back, one made with other settings refused in one line."""
    kept = os.path.isfile(path)
    net = Network(model, layer, pixel_scaling=pixel_scaling)
    try:
        summary = score_layer(net, dataset, ImportanceConfig(top_k=top_k, batch_size=batch_size), path,
                              meta={"data": dataset.source}, report=report, reads=[model.path]).summary
    finally:
        net.close()
    if kept:
        report(f"1/6 importance: {path} exists, kept (same settings)")
        return
    acc = summary["accuracy"]
    report(f"1/6 importance: {len(dataset)} images, unablated top-1 {acc['top1']:.1%}, top-5 {acc['top5']:.1%}, "
           f"top-10 {acc['top10']:.1%}; importance uses top-{top_k}; wrote {path}")


def groups_stage(importance_csv, path, top, middle, seed, report, score="importance"):
    """Write groups.csv, or keep it when it holds exactly the groups of ``top``, ``middle``, ``seed``.

    The groups reported and returned are those read back from the file.
    """
    warning = score_warning(importance_csv, score)
    if warning:
        report(warning)
    members = tuple(select_groups(importance_csv, top, middle, seed, score))
    if not os.path.isfile(path):
        write_groups(members, path)
    groups = read_groups(path)
    if groups.members != members:
        sizes = groups.sizes()
        raise UserError(f"{path} holds other groups (top {sizes['top']}, middle {sizes['middle']}) than "
                        f"top={top}, middle={middle}, seed={seed}, score={score} choose; delete it or choose another output folder")
    means = group_means(groups.members)
    report("2/6 groups: " + ", ".join(f"{name} {size} channels, mean {score} {mean:.3g}"
                                       for name, (size, mean) in means.items()) + f"; {path}")
    return sorted(groups.channels)


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """The whole study of one layer (``inception-tools run``).

    Attributes:
        layer: the layer studied; top_k: correct = true class in the top k (importance and basis).
        top, middle, seed, score: the survey's groups (sizes, blind order, the measure ranked by).
        steps, size, per_call: the visualizations (Lucid steps, pixels, channels per optimization).
        batch_size: images per batch; pixel_scaling: ``once`` or ``study`` (:mod:`inception_tools.surgery`).
    """

    layer: str
    top_k: int
    top: int = 40
    middle: int = 40
    seed: int = 0
    steps: int = 512
    size: Optional[int] = None
    per_call: int = 4
    batch_size: int = 32
    pixel_scaling: str = "once"
    score: str = "importance"


def run_study(model, dataset, config, study_dir, report=None):
    """Run every stage of ``config`` (a :class:`StudyConfig`) into ``study_dir``; return the gallery's index.html."""
    c = config
    report = report or log.info
    importance_csv, groups_csv = layout.importance_csv(study_dir), layout.groups_csv(study_dir)
    importance_stage(model, c.layer, dataset, importance_csv, c.top_k, c.batch_size, c.pixel_scaling, report)
    channels = groups_stage(importance_csv, groups_csv, c.top, c.middle, c.seed, report, c.score)
    dataset_examples(model, c.layer, dataset, study_dir,
                     ExamplesConfig(batch_size=c.batch_size, pixel_scaling=c.pixel_scaling))
    report(f"3/6 dataset examples: every channel of {c.layer}")
    folder = layout.visualization_dir(study_dir, c.layer)
    renders_config = renders.RendersConfig(layer=c.layer, channels=tuple(channels), steps=c.steps, size=c.size,
                                           seed=c.seed, per_call=c.per_call)
    runner.run(renders.STAGE, renders.prepare(model, renders_config, folder), folder, model=model)
    report(f"4/6 visualizations: {len(channels)} channels, {c.steps} steps")
    histogram = layout.histogram_png(study_dir)
    importance_histogram(importance_csv, histogram, groups_csv)
    index = build_gallery(study_dir, top_n=c.top, score=c.score)
    report(f"5/6 gallery: {index}; histogram: {histogram}")
    basis_stage(model, dataset, c, layout.basis_dir(study_dir), report)
    return index


def basis_stage(model, dataset, config, out_dir, report):
    """PCA vs neuron basis: explained variance, ablation curves, strip and render of PC 1 (through the runner)."""
    c = config
    net = Network(model, c.layer, pixel_scaling=c.pixel_scaling)
    try:
        basis = BasisConfig(seed=c.seed, top_k=c.top_k, batch_size=c.batch_size, vectors=(0,), render=True,
                            steps=c.steps, size=c.size)
        k = basis_study(net, dataset, out_dir, basis).summary["explained_variance_k"]["layer"]
    finally:
        net.close()
    report(f"6/6 basis: 80% of the variance in {k['pcs']['0.8']} PCs vs {k['neurons']['0.8']} neurons; "
           f"ablation curves, strip and render of PC 1 in {out_dir}")
