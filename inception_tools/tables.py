"""The study's two tables, importance.csv and groups.csv: the one reader of each, and the writer.

Every module that reads these files (selection, plots, gallery, survey,
analysis, pipeline) reads them here, so every check is made once:

- columns are looked up by name; the columns a caller needs must be there and
  every other column is kept as it is (the original study's leading unnamed
  pandas index column, or columns added later such as ``mean_kl`` or
  ``*_lo``/``*_hi`` intervals);
- a header that names a column twice, a channel listed twice, a value that is
  not a number, a file mixing several models or layers: one ``UserError``
  line naming the file (and the line);
- a table is never written without rows, so no command can replace a result
  with an empty one.

Channels are ranked when the importance file is read: rank 1 is the most
important channel; equal importances are ordered by channel index, smallest
first.
"""

import csv
import math
import os
from dataclasses import asdict, dataclass, fields

import numpy as np

from inception_tools.atomic import atomic_open
from inception_tools.errors import UserError

IMPORTANCE_COLUMNS = ("model", "layer", "feature_ind", "importance")
GROUP_COLUMNS = ("feature_ind", "group")
GROUP_NAMES = ("top", "middle")


def read_rows(path, required):
    """(line number, row dict) pairs of a CSV file that must have the ``required`` columns."""
    return read_csv(path, required)[1]


def read_csv(path, required):
    """``(column names, [(line number, row dict), ...])`` of a CSV file with the ``required`` columns.

    Cells are stripped; short rows give empty cells. A UTF-8 byte order mark is
    allowed. Raises UserError for an unreadable file, a duplicated or missing column.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None:
                raise UserError(f"{path}: file is empty")
            names = [name.strip() for name in reader.fieldnames]
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise UserError(f"{path}: the header names column {repeated[0]!r} more than once")
            reader.fieldnames = names
            missing = [c for c in required if c not in names]
            if missing:
                raise UserError(f"{path}: missing column(s) {', '.join(missing)}")
            return tuple(names), [(reader.line_num, _clean(row)) for row in reader]
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror or e}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise UserError(f"{path} is not a readable CSV file: {e}") from None


def _clean(row):
    return {k: (v or "").strip() for k, v in row.items() if k is not None}


def parse_int(text, what, path, line):
    """``text`` as an int (``"3"`` or ``"3.0"``), else UserError naming file and line."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value.is_integer():
        raise UserError(f"{path}: line {line}: {what} {text!r} is not an integer")
    return int(value)


def parse_finite(text, what, path, line):
    """``text`` as a finite float, else UserError naming file and line."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UserError(f"{path}: line {line}: {what} {text!r} is not a finite number")
    return value


def parse_float(text, what, path, line):
    """``text`` as a float; ``nan`` is allowed (a p-value that could not be computed)."""
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{path}: line {line}: {what} {text!r} is not a number") from None


def _repeated(values):
    seen = set()
    for v in values:
        if v in seen:
            return v
        seen.add(v)
    return None


# --- importance.csv ---------------------------------------------------------


@dataclass(frozen=True)
class ImportanceTable:
    """One layer's channel importances, most important channel first.

    ``rows`` keeps every row's cells (all columns, by name) and ``lines`` its
    line in the file, both in rank order, for columns other than the four read here.
    """

    path: str
    model: str
    layer: str
    channels: np.ndarray  # int64 channel indices in rank order
    importance: np.ndarray  # float64, aligned with ``channels``: the ``score`` (larger = more important)
    rows: tuple = ()
    lines: tuple = ()
    score: str = "importance"  # the measure ranked by (MEASURES)

    @property
    def columns(self):
        """Names of the file's columns."""
        return tuple(self.rows[0]) if self.rows else ()

    def rank_of(self):
        """Channel index -> rank (1 = most important)."""
        return {int(c): r for r, c in enumerate(self.channels, start=1)}

    def importance_of(self):
        """Channel index -> importance."""
        return {int(c): float(v) for c, v in zip(self.channels, self.importance)}

    def require(self, *names):
        """Raise UserError unless the file has the columns ``names``."""
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise UserError(f"{self.path}: missing column(s) {', '.join(missing)}")

    def column(self, name, parse=parse_float):
        """Column ``name`` in rank order, each cell through ``parse(text, name, path, line)``."""
        self.require(name)
        return [parse(row[name], name, self.path, line) for row, line in zip(self.rows, self.lines)]


@dataclass(frozen=True)
class Measure:
    name: str  # the score's name (``score=``)
    column: str  # importance.csv column of the channel's score
    description: str
    sign: int = 1  # score = sign * column: larger is more important




MEASURES = {
    m.name: m
    for m in (
        Measure("importance", "importance", "images whose true class leaves the top k (the study's)"),
        Measure("delta-logprob", "mean_delta_logprob", "mean drop of log p(true class)", sign=-1),
        Measure("kl", "mean_kl", "mean KL(p || p_ablated) over the real classes"),
        Measure("l1", "mean_abs_prob_change", "mean L1 change of the probability vector"),
    )
}


def measure(name):
    """The :class:`Measure` called ``name``; raises UserError for an unknown one."""
    if name not in MEASURES:
        raise UserError(f"unknown score {name!r}; use one of {', '.join(MEASURES)}")
    return MEASURES[name]


def read_importance(path, score="importance", basis="neuron"):
    """Read an importance CSV of one model and layer into an :class:`ImportanceTable` ranked by ``score``.

    ``score`` names a measure of :data:`MEASURES` (``importance``, the
    study's, or ``delta-logprob``, ``kl``, ``l1``); its column must be in the file. ``basis`` is what
    the rows must be: ``neuron`` (channels, the default) or ``pca`` (principal components, 0 = PC 1,
    from ``importance --basis pca``).
    """
    chosen = measure(score)
    rows = read_rows(path, IMPORTANCE_COLUMNS + ((chosen.column,) if chosen.column != "importance" else ()))
    if not rows:
        raise UserError(f"{path}: no channels")
    layers = sorted({(row["model"], row["layer"]) for _, row in rows})
    if len(layers) > 1:
        names = ", ".join(f"{m}/{l}" for m, l in layers)
        raise UserError(f"{path}: holds several model/layer pairs ({names}); give one layer per file")
    channels = [parse_int(row["feature_ind"], "feature_ind", path, line) for line, row in rows]
    if min(channels) < 0:
        raise UserError(f"{path}: channel {min(channels)} is negative")
    importance = [chosen.sign * parse_finite(row[chosen.column], chosen.column, path, line) for line, row in rows]
    repeated = _repeated(channels)
    if repeated is not None:
        raise UserError(f"{path}: channel {repeated} appears more than once")
    channels, importance = np.array(channels, np.int64), np.array(importance, np.float64)
    order = np.lexsort((channels, -importance))
    bases = sorted({row.get("basis") or "neuron" for _, row in rows})
    if bases != [basis]:
        found = "channels" if bases == ["neuron"] else f"the {'/'.join(bases)} directions of a layer"
        wanted = "channels: galleries, examples, groups and the survey take channels" if basis == "neuron" \
            else f"{basis} directions"
        raise UserError(f"{path} ranks {found}, not {wanted}")
    model, layer = layers[0]
    return ImportanceTable(os.fspath(path), model, layer, channels[order], importance[order],
                           tuple(rows[i][1] for i in order), tuple(rows[i][0] for i in order), score)


# --- groups.csv -------------------------------------------------------------


@dataclass(frozen=True)
class GroupMember:
    """One row of groups.csv."""

    order: int
    channel: int  # the file's ``feature_ind`` column
    group: str
    importance: float  # the value of ``score`` (larger = more important)
    rank: int
    score: str = "importance"  # the measure ranked by


@dataclass(frozen=True)
class GroupsTable:
    """The surveyed channels of groups.csv, in blind order (``order``, or file order without it)."""

    path: str
    members: tuple  # GroupMember; importance/rank are nan/0 when the file lacks those columns

    @property
    def channels(self):
        return [m.channel for m in self.members]

    def group_of(self):
        """Channel index -> ``"top"``/``"middle"``."""
        return {m.channel: m.group for m in self.members}

    def sizes(self):
        """Group name -> number of channels."""
        return {name: sum(m.group == name for m in self.members) for name in GROUP_NAMES}


def read_groups(path, table=None):
    """Read groups.csv; with ``table`` (an :class:`ImportanceTable`) its channels must be in it."""
    rows = read_rows(path, GROUP_COLUMNS)
    if not rows:
        raise UserError(f"{path}: no channels")
    known = set(table.rank_of()) if table is not None else None
    members = []
    for i, (line, row) in enumerate(rows, start=1):
        channel = parse_int(row["feature_ind"], "feature_ind", path, line)
        if row["group"] not in GROUP_NAMES:
            raise UserError(f"{path}: line {line}: group {row['group']!r} is not 'top' or 'middle'")
        if known is not None and channel not in known:
            raise UserError(f"{path}: line {line}: channel {channel} is not in {table.path}")
        members.append(GroupMember(
            order=parse_int(row["order"], "order", path, line) if "order" in row else i,
            channel=channel,
            group=row["group"],
            importance=parse_finite(row["importance"], "importance", path, line) if "importance" in row else math.nan,
            rank=parse_int(row["rank"], "rank", path, line) if "rank" in row else 0,
            score=row.get("score") or "importance",
        ))
    repeated = _repeated(m.channel for m in members)
    if repeated is not None:
        raise UserError(f"{path}: channel {repeated} appears more than once")
    repeated = _repeated(m.order for m in members)
    if repeated is not None:
        raise UserError(f"{path}: order {repeated} appears more than once")
    return GroupsTable(os.fspath(path), tuple(sorted(members, key=lambda m: m.order)))


def write_groups(members, out_csv):
    """Write groups.csv (``order,feature_ind,group,importance,rank,score``) atomically."""
    column = {"channel": "feature_ind"}
    rows = [{column.get(k, k): v for k, v in asdict(m).items()} for m in members]
    return write_table(out_csv, [column.get(f.name, f.name) for f in fields(GroupMember)], rows)


# --- writing ----------------------------------------------------------------


def write_table(path, columns, rows):
    """Write ``rows`` (dicts or sequences) under the header ``columns`` atomically.

    Refuses (UserError, nothing written) when there are no rows: a result is
    never replaced by an empty one.
    """
    rows = list(rows)
    if not rows:
        raise UserError(f"refusing to write {path} with no rows")
    with atomic_open(path, newline="") as f:
        if isinstance(rows[0], dict):
            writer = csv.DictWriter(f, fieldnames=list(columns))
            writer.writeheader()
        else:
            writer = csv.writer(f)
            writer.writerow(columns)
        writer.writerows(rows)
    return path
