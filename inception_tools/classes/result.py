"""What a class-activation study returns (``it.classes``): the class-conditional vectors of every layer.

For each layer studied, :class:`ClassStats` holds per class ``k`` (row ``k``, output index ``classes[k]``)
and unit: the mean and variance of the unit's value over the class's kept images, how many of them
activate it, and which units contribute to the class; plus the images seen and kept per class, the pass
settings, the class-restricted importance when importance scans were given, and the ``classes.json``
summary. :func:`inception_tools.classes.report.write_report` writes it; nothing here writes.
"""

import dataclasses
from typing import Optional

import numpy as np

from inception_tools.errors import UserError


@dataclasses.dataclass
class ClassStats:
    """The class-conditional activation vectors of some layers, and how the classes differ.

    Every array property maps a layer name to a [K, C] array (K classes in the order of ``classes``,
    C units of the layer).
    """

    stats: dict  # layer -> classes.stats.ClassAccumulator (the streaming statistics, with bootstrap sums)
    classes: np.ndarray  # int64 [K]: the output indices studied
    labels: list  # K label names
    seen: np.ndarray  # int64 [K]: images of each class in the dataset
    kept: np.ndarray  # int64 [K]: of those, the confidently right ones the statistics count
    settings: dict  # the pass settings (model, layers, threshold, position, ...)
    min_fraction: float  # a unit contributes when active on at least this fraction of a class's images
    importance: dict = dataclasses.field(default_factory=dict)  # layer -> matter_vs_active rows per class
    importance_columns: Optional[dict] = None  # {column: {layer: [K, C]}}: class-restricted importance
    importance_table: str = ""  # markdown of ``importance``
    summary: dict = dataclasses.field(default_factory=dict)  # classes.json, plus "empty_classes"

    @property
    def mean(self):
        """Per layer, the class means [K, C] (float64)."""
        return {layer: s.mean for layer, s in self.stats.items()}

    @property
    def variance(self):
        """Per layer, the population variance (ddof 0) [K, C] (0 for a class without images)."""
        return {layer: s.variance for layer, s in self.stats.items()}

    @property
    def count(self):
        """Per layer, how many of the class's kept images activate each unit [K, C] (int64)."""
        return {layer: s.count for layer, s in self.stats.items()}

    @property
    def active_fraction(self):
        """Per layer, ``count / kept`` [K, C]."""
        return {layer: s.active_fraction for layer, s in self.stats.items()}

    @property
    def contributing(self):
        """Per layer, the units that contribute to each class (bool [K, C], with ``min_fraction``)."""
        return {layer: s.contributing(self.min_fraction) for layer, s in self.stats.items()}

    def index(self, label):
        """The row of a class, given as its output index or its label name."""
        for k, (c, name) in enumerate(zip(self.classes.tolist(), self.labels)):
            if label == c or label == name:
                return k
        raise UserError(f"class {label!r} is not among the classes studied")
