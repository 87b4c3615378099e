"""The one reader of importance.csv and of groups.csv, and the table writer."""

import csv

import pytest

from inception_tools.errors import UserError
from inception_tools.tables import (
    GroupMember, read_groups, read_importance, write_groups, write_table,
)

HEADER = ["model", "layer", "feature_ind", "importance", "newly_wrong", "newly_right", "mcnemar_p",
          "mean_delta_logprob"]


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def importance_rows(n=6):
    return [["embedded", "mixed3a", c, (c * 7) % 5, 1, 0, 0.5, -0.001 * c] for c in range(n)]


def test_ranks_by_importance_then_channel_and_keeps_every_column(tmp_path):
    rows = [r + [f"{0.1 * c:.1f}", "x"] for c, r in enumerate(importance_rows())]
    path = write_csv(tmp_path / "i.csv", HEADER + ["mean_kl", "importance_lo"], rows)
    table = read_importance(path)
    importance = {c: (c * 7) % 5 for c in range(6)}
    assert list(table.channels) == sorted(range(6), key=lambda c: (-importance[c], c))
    assert table.columns == tuple(HEADER + ["mean_kl", "importance_lo"])
    assert table.column("mean_kl") == [pytest.approx(0.1 * c) for c in table.channels]
    assert [row["importance_lo"] for row in table.rows] == ["x"] * 6
    with pytest.raises(UserError, match=r"i\.csv: line \d+: importance_lo 'x' is not a number"):
        table.column("importance_lo")
    with pytest.raises(UserError, match="missing column"):
        table.column("mean_abs_prob_change")


def test_a_byte_order_mark_and_an_unnamed_index_column_are_read(tmp_path):
    path = tmp_path / "i.csv"
    write_csv(path, [""] + HEADER[:4], [[i] + r[:4] for i, r in enumerate(importance_rows())])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(read_importance(str(path)).channels) == 6


def test_a_column_named_twice_is_refused(tmp_path):
    # Before: csv.DictReader let the second "importance" column win silently.
    path = write_csv(tmp_path / "i.csv", HEADER + ["importance"], [r + [0] for r in importance_rows()])
    with pytest.raises(UserError, match="names column 'importance' more than once"):
        read_importance(path)


def test_a_channel_listed_twice_is_refused(tmp_path):
    rows = importance_rows()
    path = write_csv(tmp_path / "i.csv", HEADER, rows + [rows[2]])
    with pytest.raises(UserError, match="channel 2 appears more than once"):
        read_importance(path)


def test_groups_are_read_in_blind_order_with_all_their_columns(tmp_path):
    members = [GroupMember(2, 5, "top", 3.0, 1), GroupMember(1, 0, "middle", 0.0, 4)]
    path = write_groups(members, str(tmp_path / "g.csv"))
    groups = read_groups(path)
    assert groups.members == (members[1], members[0])
    assert groups.sizes() == {"top": 1, "middle": 1}
    assert groups.group_of() == {5: "top", 0: "middle"}


@pytest.mark.parametrize("rows, message", [
    ([[1, 3, "top"], [2, 3, "middle"]], "channel 3 appears more than once"),
    ([[1, 3, "top"], [1, 4, "middle"]], "order 1 appears more than once"),
    ([[1, 3, "best"]], "group 'best' is not 'top' or 'middle'"),
    ([[1, 3]], "line 2: group '' is not"),  # a short row
    ([], "no channels"),
])
def test_bad_groups_are_one_line(tmp_path, rows, message):
    path = write_csv(tmp_path / "g.csv", ["order", "feature_ind", "group"], rows)
    with pytest.raises(UserError, match=message):
        read_groups(path)


def test_groups_outside_the_importance_table_are_refused(tmp_path):
    table = read_importance(write_csv(tmp_path / "i.csv", HEADER, importance_rows()))
    path = write_csv(tmp_path / "g.csv", ["feature_ind", "group"], [[9, "top"]])
    with pytest.raises(UserError, match="channel 9 is not in"):
        read_groups(path, table)


def test_an_empty_table_never_replaces_a_result(tmp_path):
    path = write_csv(tmp_path / "i.csv", HEADER, importance_rows())
    before = open(path).read()
    with pytest.raises(UserError, match="no rows"):
        write_table(path, HEADER, [])
    assert open(path).read() == before
