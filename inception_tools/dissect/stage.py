"""The dissection stage: its config, its result, and the passes that compute it.

``compute`` makes three streaming passes over the images (each checkpointed
every few batches, so a killed run resumes where it was), then two short ones:

1. ``histogram``: the layer's activations into per-channel doubling
   histograms (:mod:`~inception_tools.dissect.quantile`), and each channel's
   top images by maximum activation;
2. ``refine``: the second quantile pass; thresholds ``T_k`` with
   ``P(a_k > T_k) = quantile`` and their error bounds;
3. ``counts``: the upsampled masks against the concept masks at
   ``resolution`` x ``resolution`` (:mod:`~inception_tools.dissect.masks`),
   summed into intersections and areas (:mod:`~inception_tools.dissect.iou`);
4. the masked top examples of the detectors (at most :data:`PAGE_DETECTORS`);
5. with ``compose`` > 1, the packed masks of the ``compose_units`` channels of
   highest IoU, one checkpoint group per batch, and the beam search of
   :mod:`~inception_tools.dissect.compose`.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from inception_tools import layout, progress, runner
from inception_tools.dissect import compose as composing
from inception_tools.dissect import iou as scoring
from inception_tools.dissect import page, store
from inception_tools.dissect.examples import TopImages, masked_examples
from inception_tools.dissect.masks import LayerMasks
from inception_tools.dissect.quantile import DoublingHistogram, Refinement
from inception_tools.errors import UserError

CHECKPOINT_EVERY = 8  # batches
PAGE_DETECTORS = 64


@dataclasses.dataclass(frozen=True)
class DissectConfig:
    """Settings of one dissection.

    Attributes:
        layer: the convolutional layer to dissect.
        concepts: ``"colors"`` (the 11 colour names of each photo's pixels) or a Broden-layout folder.
        quantile: the upper tail fraction that defines the threshold (Bau et al.: 0.005).
        resolution: the side of the masks compared (Broden's segmentations: 112).
        iou_threshold: a channel whose best IoU exceeds this is a detector (Bau et al.: 0.04).
        compose: longest formula of the compositional explanations (0 or 1: none).
        beam: formulas kept per step of the beam search.
        compose_units: how many channels (highest single-concept IoU first) get a formula.
        examples: masked top examples per detector.
        batch_size: images per forward pass.
    """

    layer: str
    concepts: str = "colors"
    quantile: float = 0.005
    resolution: int = 112
    iou_threshold: float = 0.04
    compose: int = 0
    beam: int = 5
    compose_units: int = 32
    examples: int = 6
    batch_size: int = 32

    def __post_init__(self):
        if not self.layer:
            raise UserError("layer must be given")
        if not self.concepts:
            raise UserError("concepts must be 'colors' or a Broden-layout folder")
        if not 0 < self.quantile < 1:
            raise UserError(f"quantile must be between 0 and 1 (exclusive), not {self.quantile}")
        if not 0 <= self.iou_threshold < 1:
            raise UserError(f"iou_threshold must be in [0, 1), not {self.iou_threshold}")
        for name in ("resolution", "beam", "compose_units", "examples", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise UserError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.compose < 0:
            raise UserError(f"compose must be 0 (none) or a formula length, not {self.compose}")


@dataclasses.dataclass
class Dissection:
    """What a dissection found (see the module and :mod:`~inception_tools.dissect.iou` for the method).

    Attributes:
        model, layer, config: what was dissected, and how.
        concept_names, concept_categories: the C concepts and each one's category.
        n_images: images seen.
        thresholds, threshold_error: [K] ``T_k`` and the bound on its error (value units).
        group_intersection [G, K, C], group_unit_area [G, K], group_concept_area [G, C]: integer pixel counts
            at the compared resolution per group of images (image i in group i mod G); their sums are
            ``intersection``, ``unit_area`` and ``concept_area``.
        top_rows, top_values: [K, examples] each channel's top images (dataset indices) and their maxima.
        example_channels [D], examples uint8 [D, examples, R, R, 3]: masked examples of the shown detectors.
        formula_channels [U], formulas (U strings), formula_iou [U]: compositional explanations.
    """

    model: str
    layer: str
    config: DissectConfig
    concept_names: list
    concept_categories: list
    n_images: int
    thresholds: np.ndarray
    threshold_error: np.ndarray
    group_intersection: np.ndarray
    group_unit_area: np.ndarray
    group_concept_area: np.ndarray
    top_rows: np.ndarray
    top_values: np.ndarray
    example_channels: np.ndarray
    examples: np.ndarray
    formula_channels: np.ndarray
    formulas: list
    formula_iou: np.ndarray

    @property
    def intersection(self) -> np.ndarray:
        """int64 [K, C] ``sum_x |M_k ∩ L_c|`` over all images."""
        return self.group_intersection.sum(axis=0)

    @property
    def unit_area(self) -> np.ndarray:
        return self.group_unit_area.sum(axis=0)

    @property
    def concept_area(self) -> np.ndarray:
        return self.group_concept_area.sum(axis=0)

    @property
    def best_iou_se(self) -> np.ndarray:
        """[K] jackknife standard error (over groups of images) of each channel's best IoU."""
        return scoring.jackknife_se(self.group_intersection, self.group_unit_area, self.group_concept_area,
                                    np.arange(len(self.thresholds)), self.best_concept)

    @property
    def iou(self) -> np.ndarray:
        """float64 [K, C] IoU of every channel and concept."""
        return scoring.iou(self.intersection, self.unit_area, self.concept_area)

    @property
    def best_concept(self) -> np.ndarray:
        return scoring.best_concepts(self.iou)[0]

    @property
    def best_iou(self) -> np.ndarray:
        return scoring.best_concepts(self.iou)[1]

    @property
    def detectors(self) -> np.ndarray:
        """Channels whose best IoU exceeds ``config.iou_threshold``, strongest first."""
        return scoring.detectors(self.best_iou, self.config.iou_threshold)

    def by_category(self) -> dict:
        """{category: {"detectors": channels, "unique": distinct concepts detected}}."""
        return scoring.by_category(self.best_concept, self.detectors, self.concept_categories)


def _stream(checkpoint, name, concepts, config, fresh, step, desc):
    """Run ``step(acc, start, stop, images)`` over all images, saving ``acc.state()`` as ``name`` as it goes.

    ``fresh(saved)`` makes the accumulator (from the saved arrays, or new when ``saved`` is None).
    """
    saved = checkpoint.load(name)
    acc = fresh(saved)
    done = 0 if saved is None else int(saved["done"])
    n = len(concepts)
    with progress.bar(total=n, desc=desc, unit="img", initial=done) as bar:
        for i, start in enumerate(range(done, n, config.batch_size)):
            stop = min(start + config.batch_size, n)
            step(acc, start, stop, concepts.images(start, stop))
            bar.update(stop - start)
            if stop == n or (i + 1) % CHECKPOINT_EVERY == 0:
                checkpoint.save(name, done=np.int64(stop), **acc.state())
    return acc


class _First:
    """The first pass's accumulators: the doubling histograms and the top images."""

    def __init__(self, hist, top):
        self.hist, self.top = hist, top

    def state(self):
        return {**self.hist.state(), **self.top.state()}


def compute(model, concepts, config: DissectConfig, checkpoint: Optional[runner.Checkpoint] = None) -> Dissection:
    """Dissect ``config.layer`` of ``model`` with ``concepts``; pure, writes nothing but the checkpoint.

    Args:
        model: a loaded model.
        concepts: a concept source (:class:`~inception_tools.dissect.colors.ColorConcepts` or
            :class:`~inception_tools.dissect.broden.BrodenConcepts`).
        config: the settings.
        checkpoint: where long passes save progress (default: in memory).

    Returns:
        :class:`Dissection`.
    """
    checkpoint = checkpoint or runner.Checkpoint()
    depth = model.depth(config.layer)
    reader = LayerMasks(model, config.layer, config.resolution)
    try:
        k = min(config.examples, len(concepts))

        def first(acc, start, stop, images):
            acts = reader.activations(images)
            acc.hist.update(acts.reshape(-1, depth))
            acc.top.update(acts.max(axis=(1, 2)), start)

        made = _stream(checkpoint, "histogram", concepts, config, lambda s: _First(
            DoublingHistogram(depth) if s is None else DoublingHistogram.from_state(s),
            TopImages(depth, k) if s is None else TopImages.from_state(s, k)), first, "dissect: thresholds 1/2")
        refined = _stream(checkpoint, "refine", concepts, config, lambda s: made.hist.bracket(config.quantile)
                          if s is None else Refinement.from_state(s),
                          lambda acc, a, b, images: acc.update(reader.activations(images).reshape(-1, depth)),
                          "dissect: thresholds 2/2")
        thresholds, error = refined.thresholds()
        thresholds = thresholds.astype(np.float32)

        def count(acc, start, stop, images):
            masks = concepts.masks(start, stop, reader.small_images(images))
            acc.add(*reader.counts(images, thresholds, masks), masks, np.arange(start, stop))

        counts = _stream(checkpoint, "counts", concepts, config, lambda s: scoring.Counts(
            depth, len(concepts.names)) if s is None else scoring.Counts.from_state(s), count, "dissect: IoU")
        result = Dissection(
            model=model.name, layer=config.layer, config=config, concept_names=list(concepts.names),
            concept_categories=list(concepts.categories), n_images=len(concepts), thresholds=thresholds,
            threshold_error=error, group_intersection=counts.intersection, group_unit_area=counts.unit_area,
            group_concept_area=counts.concept_area, top_rows=made.top.rows, top_values=made.top.values,
            example_channels=np.zeros(0, np.int64), examples=np.zeros((0, k, 1, 1, 3), np.uint8),
            formula_channels=np.zeros(0, np.int64), formulas=[], formula_iou=np.zeros(0))
        shown = result.detectors[:PAGE_DETECTORS]
        result.example_channels = shown
        result.examples = masked_examples(reader, concepts, shown, result.top_rows[shown], thresholds,
                                          config.batch_size)
        if config.compose > 1:
            _compose(result, reader, concepts, config, checkpoint)
        return result
    finally:
        reader.close()


def _compose(result, reader, concepts, config, checkpoint):
    """Fill ``result``'s formulas: pack the masks (one checkpoint group per batch), then beam search."""
    units = np.argsort(-result.best_iou, kind="stable")[: config.compose_units]
    unit_parts, concept_parts = [], []
    starts = range(0, len(concepts), config.batch_size)
    for start in progress.iterate(starts, desc="dissect: formula masks", unit="batch"):
        name = f"compose_{start:08d}"
        saved = checkpoint.load(name)
        if saved is None:
            stop = min(start + config.batch_size, len(concepts))
            images = concepts.images(start, stop)
            found = concepts.masks(start, stop, reader.small_images(images))
            masks = reader.masks(images, units, result.thresholds[units])
            saved = {"units": composing.pack(np.moveaxis(masks, -1, 0).reshape(len(units), -1)),
                     "concepts": composing.pack(np.moveaxis(found, -1, 0).reshape(found.shape[-1], -1))}
            checkpoint.save(name, **saved)
        unit_parts.append(saved["units"])
        concept_parts.append(saved["concepts"])
    unit_masks, concept_masks = np.concatenate(unit_parts, axis=1), np.concatenate(concept_parts, axis=1)
    formulas, scores = [], []
    for i in progress.iterate(range(len(units)), desc="dissect: formulas", unit="channel"):
        formula, score = composing.explain(unit_masks[i], concept_masks, config.compose, config.beam)
        formulas.append(formula.text(result.concept_names))
        scores.append(score)
    result.formula_channels, result.formulas, result.formula_iou = units.astype(np.int64), formulas, np.array(scores)


OUTPUTS = ("dissection.npz", "dissection.csv", "dissection.json", "index.html", "detectors.png")


def write(result: Dissection, folder: runner.Folder) -> None:
    """Every file of the dissection (see :mod:`~inception_tools.dissect.store` and ``page``), atomically."""
    with folder.open("dissection.npz", "wb") as f:
        np.savez_compressed(f, **store.to_arrays(result))
    store.write_csv(result, folder, "dissection.csv")
    folder.write_json("dissection.json", store.summary(result))
    page.write_page(result, folder)
    page.write_figure(result, folder)


def read(folder: runner.Folder) -> Dissection:
    """The :class:`Dissection` of a finished folder."""
    settings = folder.read_json(layout.SETTINGS_JSON)
    config = runner.config_from_dict(DissectConfig, settings["config"])
    summary = folder.read_json("dissection.json")
    with np.load(folder.file("dissection.npz"), allow_pickle=False) as arrays:
        return Dissection(**store.from_arrays(arrays, summary["model"], summary["layer"], config))


STAGE = runner.Stage("dissect", compute, write, outputs=OUTPUTS, read=read)
