"""The settings of an importance scan: one frozen dataclass, checked when it is made."""

import dataclasses
import math
from typing import Optional

from inception_tools.errors import UserError
from inception_tools.guards import check_seed
from inception_tools.tables import measure

ABLATIONS = ("mean", "zero")
ENGINES = ("fast", "reference")
ESTIMATORS = ("exact", "control-variate", "first-order")


@dataclasses.dataclass(frozen=True)
class ImportanceConfig:
    """What to score and how.

    Attributes:
        channels: the channels to score (0-based); None: all (with ``basis``, all ``components``).
        top_k: correct = true class in the top k; None: the model's default (10 for InceptionV1).
        ablation: ``mean`` (the study's: the channel's dataset mean) or ``zero``.
        batch_size: images per batch.
        engine: ``fast`` (layer once per batch, suffix per channel) or ``reference`` (partial_run per channel).
        shortcut: fast engine: ablate through the consumers' 1x1 convolutions as a rank-one change.
        until: a reliability target (e.g. 0.9): scan shuffled images ``chunk`` at a time until the ``score``
            measure's projected split-half reliability reaches it.
        score: the measure ``until`` watches.
        chunk, shuffle_seed: images between reliability checks, and the seed of the shuffled order.
        splits, resamples, seed: the reliability estimates (:mod:`inception_tools.importance.reliability`).
        basis: ``"pca"`` scores the layer's principal components instead of channels (``channels`` are
            then component indices, 0 = PC 1); ``components`` of them (None: all), from positions drawn
            with ``basis_seed``.
        estimator: ``exact`` (every channel on every image), ``control-variate`` (exact on a seeded random
            ``exact_fraction`` of the images, drawn with ``estimator_seed``, plus a first-order control on
            all) or ``first-order`` (an approximation: no exact ablation); see :mod:`.estimated`. With
            ``until``, the control-variate estimator starts from ``exact_fraction`` and adds ``chunk`` exact
            images (nested, seeded) between checks of its own projected reliability; the first-order
            estimator takes no target. Both take ``basis``.
    """

    channels: Optional[tuple] = None
    top_k: Optional[int] = None
    ablation: str = "mean"
    batch_size: int = 32
    engine: str = "fast"
    shortcut: bool = True
    until: Optional[float] = None
    score: str = "importance"
    chunk: int = 250
    shuffle_seed: int = 0
    splits: int = 20
    resamples: int = 1000
    seed: int = 0
    basis: Optional[str] = None
    components: Optional[int] = None
    basis_seed: int = 0
    estimator: str = "exact"
    exact_fraction: float = 0.1
    estimator_seed: int = 0

    def __post_init__(self):
        if self.channels is not None:
            object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
            if not self.channels:
                raise UserError("no channels to score")
        if self.ablation not in ABLATIONS:
            raise UserError(f"unknown ablation {self.ablation!r}; use one of {', '.join(ABLATIONS)}")
        if self.engine not in ENGINES:
            raise UserError(f"unknown method {self.engine!r}; use fast or reference")
        measure(self.score)
        for name in ("seed", "shuffle_seed", "basis_seed", "estimator_seed"):
            check_seed(getattr(self, name), name)
        if self.until is not None and not (math.isfinite(self.until) and 0 < self.until < 1):
            raise UserError(f"the reliability target must lie between 0 and 1, got {self.until}")
        for name in ("batch_size", "chunk", "splits", "resamples"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.top_k is not None and self.top_k < 1:
            raise UserError(f"top_k must be at least 1, got {self.top_k}")
        if self.basis is None and self.components is not None:
            raise UserError("components choose principal components: use them with the pca basis")
        if self.components is not None and self.components < 1:
            raise UserError(f"components must be at least 1, got {self.components}")
        if self.estimator not in ESTIMATORS:
            raise UserError(f"unknown estimator {self.estimator!r}; use one of {', '.join(ESTIMATORS)}")
        if not (math.isfinite(self.exact_fraction) and 0 < self.exact_fraction <= 1):
            raise UserError(f"exact_fraction must lie in (0, 1], got {self.exact_fraction}")
        if self.estimator == "first-order" and self.until is not None:
            raise UserError("the first-order estimator ablates no image exactly, so a reliability target cannot make "
                            "it do more work: use the control-variate estimator with a target")
