"""The sanity stage (Adebayo et al., "Sanity checks for saliency maps", NeurIPS 2018).

Model parameter randomization: the weights of the top 1, 2, ... blocks
(from the logits down, :mod:`.randomize`) are re-initialized, and each
method's maps of every image are compared with the trained model's
(:mod:`.similarity`). Data randomization (the embedded model only): the same
architecture trained on permuted labels (:mod:`.retrain`), compared the same
way. A method whose maps stay alike is insensitive to what the model learned.

Files in the output folder (:func:`write`): ``cascade.png`` (the paper's
figure: maps by cascade step), ``curves.png`` (similarity by step, every
method, 95% intervals over images), ``similarity.csv``
(``test,step,block,method,measure,mean,lo,hi``), ``sanity.npz`` (per-image
similarities and the figure's maps), ``sanity.json`` (the summary) and
``report.md`` (which methods pass and by how much), the last three written last.
"""

from __future__ import annotations

import csv
import dataclasses
from typing import Optional

import numpy as np

from inception_tools import runner
from inception_tools.attribution import methods as registry
from inception_tools.attribution import targets
from inception_tools.attribution.stage import check_settings
from inception_tools.errors import UserError
from inception_tools.sanity import cascade, figures, randomize, report, retrain

NPZ = "sanity.npz"
JSON = "sanity.json"
REPORT = "report.md"
FIGURE = "cascade.png"
CURVES = "curves.png"
CSV = "similarity.csv"


@dataclasses.dataclass(frozen=True)
class SanityConfig:
    """Settings of the sanity checks.

    Attributes:
        methods: method names (see :data:`inception_tools.attribution.methods.METHODS`).
        layer: Grad-CAM's layer (required by gradcam and guided-gradcam, refused without them).
        depth: how many blocks the cascade randomizes, from the logits down (0: all of them).
        target: the class of each map, decided on the trained model: ``top`` or a class.
        ig_steps, smoothgrad_samples, smoothgrad_noise, seed, batch_size: the methods' settings;
            ``seed`` also seeds the re-initialization, the permutation and the retraining.
        retrain_epochs: epochs of the data randomization test's training (0: no data test; embedded model only).
        figure_image: the image whose maps the figure shows.
        pass_below: the pass criterion (see :mod:`inception_tools.sanity.report`).
    """

    methods: tuple = tuple(registry.METHODS)
    layer: Optional[str] = None
    depth: int = 0
    target: str = targets.TOP
    ig_steps: int = 16
    smoothgrad_samples: int = 8
    smoothgrad_noise: float = 0.15
    seed: int = 0
    batch_size: int = 8
    retrain_epochs: int = 0
    figure_image: int = 0
    pass_below: float = 0.5

    def __post_init__(self):
        object.__setattr__(self, "methods", registry.check_methods_and_layer(self.methods, self.layer))
        check_settings(self)
        for field in ("depth", "retrain_epochs", "figure_image"):
            if not isinstance(getattr(self, field), int) or getattr(self, field) < 0:
                raise UserError(f"{field} must be a non-negative integer, not {getattr(self, field)!r}")
        if not 0 < self.pass_below <= 1:
            raise UserError(f"pass_below must be in (0, 1], not {self.pass_below}")

    def settings(self) -> registry.Settings:
        return registry.Settings(self.ig_steps, self.smoothgrad_samples, self.smoothgrad_noise, self.seed,
                                 self.batch_size)


@dataclasses.dataclass
class Sanity:
    """The sanity checks' result.

    Attributes:
        methods: method names.
        blocks: the cascade's blocks, in the order randomized (step k randomizes ``blocks[:k]``).
        similarity: float32 [steps, methods, measures, N] against the trained maps (measures: ``similarity.MEASURES``).
        examples: float32 [steps + 1, methods, H, W], the figure image's maps (0: trained).
        image: float32 [H, W, 3], the figure image.
        targets: int64 [N], the class of each image's maps.
        data_similarity: float32 [methods, measures, N] for the permuted-label model, or None.
        data_examples: float32 [methods, H, W], or None.
        retrain: the permuted-label training's settings, time and accuracies, or None.
        trained_seconds, step_seconds: the time of the trained model's maps and of each step.
        summary: intervals and verdicts (:func:`inception_tools.sanity.report.summary`).
        model: the model's name.
    """

    methods: tuple
    blocks: list
    similarity: np.ndarray
    examples: np.ndarray
    image: np.ndarray
    targets: np.ndarray
    data_similarity: Optional[np.ndarray]
    data_examples: Optional[np.ndarray]
    retrain: Optional[dict]
    trained_seconds: float
    step_seconds: np.ndarray
    summary: dict
    model: str

    def passes(self, method: str) -> bool:
        """Whether ``method`` passes the model parameter randomization test."""
        return self.summary["cascade"][method]["passes"]


def check_model(model, config: SanityConfig) -> list:
    """The checks that need the model (layer, class, cascade depth, a trainer): UserError; returns the blocks."""
    if config.layer is not None:
        model.depth(config.layer)
    targets.check_class(config.target, model)
    blocks = randomize.cascade(model, config.depth or len(randomize.blocks(model)))
    if config.retrain_epochs:
        retrain.check_model(model)
    return blocks


def check(model, dataset, config: SanityConfig) -> list:
    """Every check that needs the model and data, before any work (UserError); returns the cascade's blocks."""
    blocks = check_model(model, config)
    if config.figure_image >= len(dataset):
        raise UserError(f"figure_image {config.figure_image} out of range: the dataset has {len(dataset)} images")
    return blocks


def compute(model, dataset, config: SanityConfig, checkpoint=None) -> Sanity:
    """Both randomization tests (the data test when ``config.retrain_epochs``), in memory.

    Args:
        model: a loaded model (the data test needs the embedded model).
        dataset: the images.
        config: the :class:`SanityConfig`.
        checkpoint: a :class:`~inception_tools.runner.Checkpoint` (one group per cascade step).

    Returns:
        :class:`Sanity`.
    """
    checkpoint = checkpoint or runner.Checkpoint()
    blocks = check(model, dataset, config)
    reference, chosen, trained_seconds = cascade.trained_maps(model, dataset, config, checkpoint)
    sims, examples, seconds = cascade.cascade_steps(model, dataset, config, reference, chosen, checkpoint, blocks)
    data_sims = data_examples = info = None
    if config.retrain_epochs:
        data_sims, data_examples, info = cascade.data_randomization(model, dataset, config, reference, chosen,
                                                                    checkpoint)
    result = Sanity(config.methods, list(blocks), sims, np.concatenate([reference[None, :, config.figure_image],
                                                                        examples]),
                    dataset.images(config.figure_image, config.figure_image + 1)[0], chosen, data_sims,
                    data_examples, info, trained_seconds, seconds, {}, model.name)
    result.summary = report.summary(result, config.pass_below, config.seed)
    return result


def write(result: Sanity, folder: runner.Folder) -> None:
    """Every file of the stage (see the module docstring)."""
    title = f"{result.model}: {len(result.targets)} images"
    fig = figures.cascade_grid(result.image, result.examples, result.methods, result.blocks, result.data_examples,
                               title=f"{result.model}: maps as the cascade randomizes blocks from the logits down")
    with folder.temporary(FIGURE) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    figures.plt.close(fig)
    fig = figures.curves(result.summary, title=title)
    with folder.temporary(CURVES) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    figures.plt.close(fig)
    with folder.open(CSV, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["test", "step", "block", "method", "measure", "mean", "lo", "hi"])
        writer.writerows(report.csv_rows(result.summary))
    arrays = dict(similarity=result.similarity, examples=result.examples, image=result.image,
                  targets=result.targets, step_seconds=result.step_seconds, methods=np.array(result.methods),
                  blocks=np.array(result.blocks))
    if result.data_similarity is not None:
        arrays.update(data_similarity=result.data_similarity, data_examples=result.data_examples)
    folder.write_npz(NPZ, **arrays)
    folder.write_json(JSON, {"model": result.model, "trained_seconds": result.trained_seconds, **result.summary})
    with folder.open(REPORT, encoding="utf-8") as f:
        f.write(report.markdown(result.summary, result.model))


def read(folder: runner.Folder) -> Sanity:
    """The :class:`Sanity` of a finished folder."""
    found = folder.read_json(JSON)
    model, trained_seconds = found.pop("model"), found.pop("trained_seconds")
    with np.load(folder.file(NPZ), allow_pickle=False) as saved:
        data = "data_similarity" in saved.files
        return Sanity(tuple(str(m) for m in saved["methods"]), [str(b) for b in saved["blocks"]],
                      saved["similarity"], saved["examples"], saved["image"], saved["targets"],
                      saved["data_similarity"] if data else None, saved["data_examples"] if data else None,
                      found["data"]["retrain"] if found["data"] else None, trained_seconds, saved["step_seconds"],
                      found, model)


STAGE = runner.Stage("sanity", compute, write, outputs=(FIGURE, CURVES, CSV, NPZ, JSON, REPORT), read=read)
