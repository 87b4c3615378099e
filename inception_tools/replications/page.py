"""The replications page: per source a table figure | theirs | ours | setting differences | status.

A :class:`Section` holds one source's rows, its detailed tables (Markdown) and the raw values behind
"ours" (``values``, JSON-ready, written beside the page so a test can compare them with the toolkit's
functions). :func:`status_of_range` and friends turn a comparison into one of the four statuses by
explicit rules, so a status is computed, not typed.
"""

import dataclasses
import json
import os
import time

import numpy as np

from inception_tools.atomic import atomic_open

REPRODUCED = "reproduced"
DIRECTION = "reproduced in direction only"
DIFFERS = "differs"
NOT_RUNNABLE = "not runnable here"
NOT_BUILT = "not yet built"
OURS_ONLY = "ours only"  # a figure the source does not report (e.g. a reliability projection)


@dataclasses.dataclass
class Row:
    """One line of a source's table; ``status`` is one of the constants above, ``why`` says why."""

    figure: str
    theirs: str
    ours: str
    settings: str
    status: str
    why: str = ""

    def cells(self):
        status = f"{self.status}: {self.why}" if self.why else self.status
        return [self.figure, self.theirs, self.ours, self.settings, status]


@dataclasses.dataclass
class Section:
    """One source: title, what was run (``setting``), rows, detailed Markdown tables, raw values."""

    key: str
    title: str
    setting: str
    rows: list
    details: str = ""
    values: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    reused: bool = False  # values read from an earlier run's work folder (``seconds`` is that run's)


def cached(work_dir, name, compute):
    """``(values, seconds, reused)``: ``compute()``'s values and run time, kept in ``work_dir/<name>.values.json``.

    A later run with the same work folder reads them back instead of measuring again (the page
    then says so), so a change to how a page shows its values does not need the long runs again.
    """
    path = os.path.join(work_dir, f"{name}.values.json")
    if os.path.isfile(path):
        with open(path) as f:
            saved = json.load(f)
        return saved["values"], saved["seconds"], True
    started = time.monotonic()
    values = compute()
    seconds = time.monotonic() - started
    with atomic_open(path) as f:
        json.dump({"values": values, "seconds": seconds}, f, default=_plain)
    with open(path) as f:  # the same JSON types on both paths
        return json.load(f)["values"], seconds, False


def fmt(value, digits=3):
    """A number with ``digits`` significant digits (integers as they are)."""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{value:.{digits}g}"


def span(values, digits=3):
    """``"lo-hi"`` of a sequence of numbers."""
    values = list(values)
    lo, hi = fmt(min(values), digits), fmt(max(values), digits)
    return lo if lo == hi else f"{lo}-{hi}"


def overlap_share(a, b):
    """Intersection over union of two closed ranges ``(lo, hi)`` (1 for equal ranges, 0 when disjoint)."""
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    if hi < lo:
        return 0.0
    union = max(a[1], b[1]) - min(a[0], b[0])
    return 1.0 if union <= 0 else (hi - lo) / union


def status_of_range(ours, theirs, direction_holds):
    """``REPRODUCED`` when the ranges' intersection is at least half their union; ``DIRECTION`` when only
    the qualitative claim holds; else ``DIFFERS``."""
    if overlap_share(ours, theirs) >= 0.5:
        return REPRODUCED
    return DIRECTION if direction_holds else DIFFERS


def table(head, rows):
    """A Markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def section_markdown(section):
    rows = [row.cells() for row in section.rows]
    parts = [f"## {section.title}\n", f"{section.setting}\n",
             table(["figure", "theirs", "ours", "setting differences", "status"], rows)]
    if section.details:
        parts.append(section.details)
    return "\n".join(parts)


def write_page(path, sections, header):
    """Write the Markdown page (``header`` first) and ``<path minus .md>.json`` with every section's values."""
    text = header.rstrip() + "\n\n" + "\n".join(section_markdown(s) for s in sections)
    with atomic_open(path) as f:
        f.write(text)
    data = {s.key: {"values": s.values, "rows": [dataclasses.asdict(r) for r in s.rows], "seconds": s.seconds}
            for s in sections}
    with atomic_open(path[:-3] + ".json" if path.endswith(".md") else path + ".json") as f:
        json.dump(data, f, indent=1, default=_plain)
    return text


def _plain(value):
    """JSON for NumPy values."""
    return value.tolist() if hasattr(value, "tolist") else float(value)
