"""Choosing the top and middle groups from a known importance ranking."""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inception_tools.errors import UserError
from inception_tools.selection import group_means, middle_start, select_groups
from inception_tools.tables import write_groups

ROOT = Path(__file__).resolve().parents[1]

# Channel c has importance IMPORTANCE[c]. Ranked (ties by channel index: 1 before 3):
# rank:    1  2  3  4  5  6  7  8  9  10
# channel: 1  3  7  5  9  2  8  0  6  4
IMPORTANCE = [0.3, 0.9, 0.5, 0.9, 0.1, 0.7, 0.2, 0.8, 0.4, 0.6]


def write_importance(path, importance, index_column=False):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(([""] if index_column else []) + ["model", "layer", "feature_ind", "importance"])
        for c, value in enumerate(importance):
            w.writerow(([c] if index_column else []) + ["InceptionV1", "mixed5a", c, value])
    return path


@pytest.fixture
def ten(tmp_path):
    return write_importance(tmp_path / "importance.csv", IMPORTANCE)


def members_of(rows, group):
    return {r.channel: r.rank for r in rows if r.group == group}


def test_even_middle_is_centred(ten):
    # 10 - 2 = 8 ranks outside the block: 4 above (ranks 1-4), 4 below (ranks 7-10).
    rows = select_groups(ten, top=2, middle=2)
    assert members_of(rows, "top") == {1: 1, 3: 2}
    assert members_of(rows, "middle") == {9: 5, 2: 6}


def test_odd_middle_has_one_more_below(ten):
    # 10 - 3 = 7 ranks outside: floor(7/2) = 3 above (ranks 1-3), 4 below (ranks 7-10).
    rows = select_groups(ten, top=2, middle=3)
    assert members_of(rows, "middle") == {5: 4, 9: 5, 2: 6}
    # An odd top group with an even middle one: ranks 1-3 and 4-7 (3 above, 3 below).
    rows = select_groups(ten, top=3, middle=4)
    assert members_of(rows, "top") == {1: 1, 3: 2, 7: 3}
    assert members_of(rows, "middle") == {5: 4, 9: 5, 2: 6, 8: 7}


def test_rows_carry_importance_and_blind_order(ten):
    rows = select_groups(ten, top=3, middle=4)
    assert sorted(r.order for r in rows) == list(range(1, 8))
    assert all(r.importance == IMPORTANCE[r.channel] for r in rows)
    means = group_means(rows)
    assert means["top"] == (3, pytest.approx((0.9 + 0.9 + 0.8) / 3))
    assert means["middle"] == (4, pytest.approx((0.7 + 0.6 + 0.5 + 0.4) / 4))


def test_study_sizes_on_832_channels(tmp_path):
    # importance -c makes rank = c + 1; 832 - 40 = 792 outside, 396 on each side.
    path = write_importance(tmp_path / "imp.csv", [-c for c in range(832)], index_column=True)
    rows = select_groups(path, top=40, middle=40, seed=0)
    assert middle_start(832, 40) == 396
    assert members_of(rows, "top") == {c: c + 1 for c in range(40)}
    assert members_of(rows, "middle") == {c: c + 1 for c in range(396, 436)}
    ranks_in_order = [r.rank for r in sorted(rows, key=lambda r: r.order)]
    assert ranks_in_order != sorted(ranks_in_order)
    assert {r.group for r in sorted(rows, key=lambda r: r.order)[:40]} == {"top", "middle"}


def test_seed_fixes_the_order(ten):
    order = lambda seed: [r.channel for r in select_groups(ten, top=3, middle=4, seed=seed)]
    assert order(5) == order(5)
    assert any(order(seed) != order(0) for seed in range(1, 5))


@pytest.mark.parametrize(
    "top, middle, message",
    [(6, 5, "fewer than top + middle = 11"), (4, 4, "overlaps the top 4"), (0, 2, "at least 1")],
)
def test_impossible_groups(ten, top, middle, message):
    with pytest.raises(UserError, match=re.escape(message)):
        select_groups(ten, top=top, middle=middle)


def test_write_groups_round_trips(ten, tmp_path):
    rows = select_groups(ten, top=2, middle=2, seed=3)
    out = write_groups(rows, tmp_path / "out" / "groups.csv")
    with open(out, newline="") as f:
        read = list(csv.DictReader(f))
    assert list(read[0]) == ["order", "feature_ind", "group", "importance", "rank", "score"]
    assert {r["score"] for r in read} == {"importance"}
    as_read = [
        (int(r["order"]), int(r["feature_ind"]), r["group"], float(r["importance"]), int(r["rank"])) for r in read
    ]
    assert as_read == [(r.order, r.channel, r.group, r.importance, r.rank) for r in rows]
    assert sorted(p.name for p in out.parent.iterdir()) == ["groups.csv"]


def test_cli_select_bad_sizes_is_one_error_line(ten, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "inception_tools", "select", "--importance", str(ten), "--top", "6", "--middle", "5"]
        + ["--out", str(tmp_path / "g.csv")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: mixed5a has 10 channels")
    assert not (tmp_path / "g.csv").exists()


def _scored(tmp_path, reliability):
    """Ten channels whose importance and KL rank them in opposite orders, with a recorded reliability."""
    path = tmp_path / "importance.csv"
    lines = ["model,layer,feature_ind,importance,mean_kl"] + [f"m,mixed5a,{c},{c},{(10 - c) / 100}" for c in range(10)]
    path.write_text("\n".join(lines) + "\n")
    (tmp_path / "importance.json").write_text(json.dumps({"reliability": reliability}))
    return path


RELIABILITY = {"measures": {"importance": {"rho": 0.02, "n_images": 1000, "images_for_0.9": 4.4e5},
                            "kl": {"rho": 0.7, "n_images": 1000, "images_for_0.9": 1900}}}


def test_select_by_another_score_ranks_by_its_column(tmp_path):
    rows = select_groups(_scored(tmp_path, RELIABILITY), top=2, middle=2, score="kl")
    assert sorted(r.channel for r in rows if r.group == "top") == [0, 1]
    assert {r.score for r in rows} == {"kl"}


def test_select_warns_in_one_line_when_the_score_is_unreliable(tmp_path):
    path = _scored(tmp_path, RELIABILITY)
    command = [sys.executable, "-m", "inception_tools", "select", "--importance", str(path), "--top", "2",
               "--middle", "2", "--out", str(tmp_path / "g.csv")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    (line,) = result.stderr.splitlines()
    assert line.startswith("warning: ranking by importance is unreliable") and "kl" in line and "440,000" in line
    result = subprocess.run(command + ["--score", "kl"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == ""
