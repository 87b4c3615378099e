"""Choosing the survey's two groups of channels and their blind order.

Channels are ranked by importance (or another ``score``, see
``inception_tools.importance.measures``), rank 1 the most important; equal values are
ordered by channel index, smallest first (see ``analysis.tables``).

- top group: ranks 1 .. top.
- middle group: the ``middle`` consecutive ranks centred on the median of the ranking.
  With C channels the block starts after s = floor((C - middle) / 2) ranks, i.e. it is
  ranks s+1 .. s+middle. When C - middle is even, exactly s channels rank above the
  block and s below it (832 channels, 40 in the middle: ranks 397-436, 396 on each side);
  when C - middle is odd, one more channel ranks below the block than above it.

The two groups are then shuffled together with ``numpy.random.default_rng(seed)`` into
one blind order, so a rater cannot tell the groups apart from the order. ``order`` and
``rank`` in groups.csv both count from 1.
"""

import csv
from dataclasses import asdict, dataclass, fields

import numpy as np

from inception_tools.analysis.tables import GROUP_NAMES, read_importance
from inception_tools.atomic import atomic_open
from inception_tools.errors import UserError


@dataclass(frozen=True)
class GroupMember:
    """One row of groups.csv."""

    order: int
    feature_ind: int
    group: str
    importance: float  # the value of ``score`` (larger = more important)
    rank: int
    score: str = "importance"  # the measure ranked by


def middle_start(n_channels, middle):
    """How many ranks lie above the middle block (0-based index of its first rank)."""
    return (n_channels - middle) // 2


def choose_groups(table, top=40, middle=40, seed=0):
    """The top and middle groups of an :class:`ImportanceTable`, in blind order."""
    n = len(table.channels)
    if top < 1 or middle < 1:
        raise UserError(f"group sizes must be at least 1 (top {top}, middle {middle})")
    if n < top + middle:
        raise UserError(f"{table.layer} has {n} channels, fewer than top + middle = {top + middle}")
    start = middle_start(n, middle)
    if start < top:
        block = f"ranks {start + 1}-{start + middle}"
        raise UserError(f"with {n} channels the middle block ({block}) overlaps the top {top}")
    positions = [(p, "top") for p in range(top)] + [(p, "middle") for p in range(start, start + middle)]
    blind = np.random.default_rng(seed).permutation(len(positions))
    return [
        GroupMember(order, int(table.channels[p]), group, float(table.importance[p]), p + 1, table.score)
        for order, (p, group) in enumerate((positions[i] for i in blind), start=1)
    ]


def select_groups(importance_csv, top=40, middle=40, seed=0, score="importance"):
    """Read an importance CSV, rank it by ``score`` and choose its groups (see :func:`choose_groups`)."""
    return choose_groups(read_importance(importance_csv, score), top, middle, seed)


def write_groups(members, out_csv):
    """Write groups.csv (``order,feature_ind,group,importance,rank,score``) atomically."""
    with atomic_open(out_csv, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[field.name for field in fields(GroupMember)])
        writer.writeheader()
        writer.writerows(asdict(m) for m in members)
    return out_csv


def group_means(members):
    """group name -> (size, mean importance), top first."""
    means = {}
    for name in GROUP_NAMES:
        values = [m.importance for m in members if m.group == name]
        means[name] = (len(values), float(np.mean(values)))
    return means
