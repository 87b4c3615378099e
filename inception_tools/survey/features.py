"""The surveyed features in their blind order, and where their images are.

``groups.csv`` lists the features to survey with a shuffled ``order``; a
participant sees them by *position* (1, 2, ... in that order), and the page
and its URLs only ever name the position, never the channel, its group, its
importance or its rank.
"""

import os
from dataclasses import dataclass

from inception_tools import layout
from inception_tools.errors import UserError
from inception_tools.layout import examples_png, visualization_png
from inception_tools.tables import read_groups, read_importance


@dataclass(frozen=True)
class SurveyFeature:
    position: int  # 1-based place in the blind order: all the page knows
    channel: int
    visualization: str  # PNG path: the 4 feature visualizations
    examples: str  # PNG path: the 8 strongest dataset examples


@dataclass(frozen=True)
class SurveyPlan:
    model: str
    layer: str
    features: tuple

    def feature(self, position):
        """The feature at ``position``, or None outside 1..len."""
        if 1 <= position <= len(self.features):
            return self.features[position - 1]
        return None


def read_plan(study_dir):
    """The study's model and layer and its ``groups.csv`` features in blind order."""
    importance = layout.importance_csv(study_dir)
    if not os.path.isfile(importance):
        raise UserError(f"{importance} not found: compute the importance of the study first")
    table = read_importance(importance)
    groups = layout.groups_csv(study_dir)
    if not os.path.isfile(groups):
        raise UserError(f"{groups} not found: select the surveyed groups first")
    features = tuple(
        SurveyFeature(
            position=i,
            channel=c,
            visualization=visualization_png(study_dir, table.layer, c),
            examples=examples_png(study_dir, table.layer, c, "top"),
        )
        for i, c in enumerate(read_groups(groups, table).channels, start=1)
    )
    _check_images(features)
    return SurveyPlan(table.model, table.layer, features)


def _check_images(features):
    missing = [p for f in features for p in (f.visualization, f.examples) if not os.path.isfile(p)]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise UserError(f"{missing[0]} is missing{more}: the survey needs every visualization and example strip")
