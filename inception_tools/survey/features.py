"""The surveyed features in their blind order, and where their images are.

``groups.csv`` lists the features to survey with a shuffled ``order``; a
participant sees them by *position* (1, 2, ... in that order), and the page
and its URLs only ever name the position, never the channel, its group, its
importance or its rank.
"""

import os
from dataclasses import dataclass

from inception_tools.analysis.tables import parse_int, read_rows
from inception_tools.errors import UserError
from inception_tools.gallery import read_importance
from inception_tools.layout import examples_png, visualization_png

GROUPS_COLUMNS = ("order", "feature_ind")


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
    first = read_importance(study_dir)[0]
    channels = _blind_order(os.path.join(study_dir, "groups.csv"))
    features = tuple(
        SurveyFeature(
            position=i,
            channel=c,
            visualization=visualization_png(study_dir, first.layer, c),
            examples=examples_png(study_dir, first.layer, c, "top"),
        )
        for i, c in enumerate(channels, start=1)
    )
    _check_images(features)
    return SurveyPlan(first.model, first.layer, features)


def _blind_order(path):
    """The channels of ``groups.csv`` sorted by their ``order``."""
    if not os.path.isfile(path):
        raise UserError(f"{path} not found: select the surveyed groups first")
    rows = sorted(
        (parse_int(row["order"], "order", path, line), parse_int(row["feature_ind"], "feature_ind", path, line))
        for line, row in read_rows(path, GROUPS_COLUMNS)
    )
    channels = [c for _, c in rows]
    if not channels:
        raise UserError(f"{path}: no features")
    if len(set(channels)) != len(channels):
        raise UserError(f"{path}: a feature appears more than once")
    return channels


def _check_images(features):
    missing = [p for f in features for p in (f.visualization, f.examples) if not os.path.isfile(p)]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise UserError(f"{missing[0]} is missing{more}: the survey needs every visualization and example strip")
