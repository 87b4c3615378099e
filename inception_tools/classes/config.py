"""The settings of a class-conditional study: one frozen dataclass, checked when it is made."""

import dataclasses
import math
from typing import Union

from inception_tools.classes.stats import POSITIONS
from inception_tools.errors import UserError
from inception_tools.guards import check_seed


@dataclasses.dataclass(frozen=True)
class ClassesConfig:
    """Teague's class-conditional activation study of some layers (:func:`inception_tools.classes.class_study`).

    Attributes:
        layers: the layers studied.
        classes: output indices or a spec string ("3,7", label ids or names); None: every real class.
        threshold: keep images whose top-1 is the true class with at least this probability.
        position: ``mean`` | ``center`` | ``max`` of a convolutional channel (dense units as they are).
        active_threshold: a unit is active on an image when its value exceeds this.
        min_fraction: a unit contributes to a class when active on at least this fraction of its images.
        replicates: Poisson bootstrap replicates for the distance intervals (0: none), drawn with ``seed``.
        batch_size: images per batch.
        pixel_scaling: ``once`` or ``study`` (see :mod:`inception_tools.surgery`).
        importance: importance CSVs of finished scans of some of ``layers`` (with their outcome stores).
    """

    layers: tuple
    classes: Union[None, str, tuple] = None
    threshold: float = 0.9
    position: str = "mean"
    active_threshold: float = 0.0
    min_fraction: float = 0.0
    replicates: int = 200
    seed: int = 0
    batch_size: int = 64
    pixel_scaling: str = "once"
    importance: tuple = ()

    def __post_init__(self):
        layers = (self.layers,) if isinstance(self.layers, str) else tuple(self.layers)
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "importance", tuple(self.importance or ()))
        if isinstance(self.classes, list):
            object.__setattr__(self, "classes", tuple(self.classes))
        if not self.layers:
            raise UserError("give at least one layer")
        if len(set(self.layers)) != len(self.layers):
            twice = next(layer for layer in self.layers if self.layers.count(layer) > 1)
            raise UserError(f"layer {twice} is given twice: each layer's statistics are collected once")
        check_seed(self.seed)
        for name in ("threshold", "min_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise UserError(f"{name} must be in [0, 1], got {value}")
        if self.position not in POSITIONS:
            raise UserError(f"unknown position {self.position!r}; choose one of {', '.join(POSITIONS)}")
        if not math.isfinite(self.active_threshold):
            raise UserError(f"active_threshold must be a finite number, got {self.active_threshold}")
        if self.replicates < 0:
            raise UserError(f"replicates must be 0 or more, got {self.replicates}")
        if self.batch_size < 1:
            raise UserError(f"batch_size must be at least 1, got {self.batch_size}")
