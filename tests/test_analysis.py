"""The survey analysis on small hand-computed inputs.

Importance (channel: value), ranked with ties by channel index:
    1: 0.9 (rank 1), 3: 0.9 (2), 5: 0.7 (3), 0: 0.5 (4), 4: 0.3 (5), 6: 0.2 (6), 2: 0.1 (7), 7: 0.05 (8)
With --top 3 the top group is {1, 3, 5}; the other rated features {0, 2, 4, 6} are middle.

I = (q1*q3 + q4) / 2 with q = (Q - 1) / 4. Answers (Q1, Q3, Q4) -> I:
    alice  1: (5,5,5) -> (1*1 + 1)/2       = 1.0
    alice  3: (3,5,1) -> (0.5*1 + 0)/2     = 0.25
    alice  5: (5,3,3) -> (1*0.5 + 0.5)/2   = 0.5
    alice  0: (1,5,2) -> (0*1 + 0.25)/2    = 0.125
    alice  4: (2,3,1) -> (0.25*0.5 + 0)/2  = 0.0625
    alice  6: (7,5,1) invalid: 7 is outside 1-5; kept as is: (1.5*1 + 0)/2 = 0.75
    bob    1: (4,4,4) -> (0.75*0.75 + 0.75)/2 = 0.65625
    bob    3: (5,5,5) -> 1.0
    bob    0: (2,2,2) -> (0.25*0.25 + 0.25)/2 = 0.15625
    bob    6: (1,1,1) -> 0.0
    bob    2: ("",3,3) invalid: missing; never usable
    bob    4: (2.5,3,3) invalid: not an integer; kept as is: (0.375*0.5 + 0.5)/2 = 0.34375
"""

import argparse
import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from scipy import stats

from inception_tools.analysis.interpretability import Rating, by_feature, by_participant, interpretability
from inception_tools.analysis.statistics import bootstrap_difference, mann_whitney, pair_agreement
from inception_tools.analysis.study import analyze
from inception_tools.cli import analyze as cli_analyze
from inception_tools.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
IMPORTANCE = {0: 0.5, 1: 0.9, 2: 0.1, 3: 0.9, 4: 0.3, 5: 0.7, 6: 0.2, 7: 0.05}
ANSWER_HEADER = [
    "model", "layer", "neuron", "question1", "text_question", "question3", "question4", "question5", "question6"
]
ALICE = [(1, 5, 5, 5), (3, 3, 5, 1), (5, 5, 3, 3), (0, 1, 5, 2), (4, 2, 3, 1), (6, 7, 5, 1)]
BOB = [(1, 4, 4, 4), (3, 5, 5, 5), (0, 2, 2, 2), (6, 1, 1, 1), (2, "", 3, 3), (4, 2.5, 3, 3)]


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def answer_rows(answers, layer="mixed5a", participant=None, index_column=False):
    rows = []
    for i, (neuron, q1, q3, q4) in enumerate(answers):
        row = ["InceptionV1", layer, neuron, q1, "looks like fur", q3, q4, 3, 4]
        rows.append(([i] if index_column else []) + row + ([participant] if participant else []))
    return rows


@pytest.fixture(params=["toolkit", "original"])
def study(tmp_path, request):
    """Importance CSV (toolkit or original-study format), alice's answers (with a participant
    column) and bob's (original-study format: leading index column, no participant column)."""
    if request.param == "toolkit":
        header = ["model", "layer", "feature_ind", "importance"]
        header += ["newly_wrong", "newly_right", "mcnemar_p", "mean_delta_logprob"]
        rows = [["InceptionV1", "mixed5a", c, v, 3, 1, 0.6, -0.01] for c, v in IMPORTANCE.items()]
    else:
        header = ["", "model", "layer", "feature_ind", "importance"]
        rows = [[i, "InceptionV1", "mixed5a", c, v] for i, (c, v) in enumerate(IMPORTANCE.items())]
    importance = write_csv(tmp_path / "importance.csv", header, rows)
    alice = write_csv(tmp_path / "a1.csv", ANSWER_HEADER + ["participant"], answer_rows(ALICE, participant="alice"))
    bob = write_csv(tmp_path / "bob.csv", [""] + ANSWER_HEADER, answer_rows(BOB, index_column=True))
    return importance, [alice, bob], tmp_path / "out"


def features_by_id(summary):
    return {f["feature_ind"]: f for f in summary["features"]}


def test_interpretability_by_hand():
    assert interpretability(5, 5, 5) == 1.0
    assert interpretability(1, 1, 1) == 0.0
    assert interpretability(3, 5, 1) == 0.25  # (0.5*1 + 0)/2
    assert interpretability(4, 4, 4) == 0.65625  # (0.75*0.75 + 0.75)/2


def test_participant_rows_averaged_before_features():
    # alice rated feature 9 twice (1.0, 0.0 -> 0.5), bob once (1.0): (0.5 + 1.0)/2 = 0.75,
    # not the row mean 2/3.
    ratings = [Rating("alice", 9, 1.0), Rating("alice", 9, 0.0), Rating("bob", 9, 1.0)]
    assert by_feature(by_participant(ratings)) == {9: (0.75, 2)}


def test_analyze_excludes_invalid_rows(study):
    importance, answers, out = study
    summary = analyze(importance, answers, out, top=3)
    features = features_by_id(summary)
    assert summary["participants"] == ["alice", "bob"]
    assert features[1]["I"] == (1.0 + 0.65625) / 2
    assert features[3]["I"] == (0.25 + 1.0) / 2
    assert features[5]["I"] == 0.5
    assert features[0]["I"] == (0.125 + 0.15625) / 2
    assert features[4]["I"] == 0.0625  # bob's 2.5 excluded
    assert features[6]["I"] == 0.0  # alice's 7 excluded
    assert features[2]["I"] is None and features[2]["n_raters"] == 0
    assert [features[c]["rank"] for c in (1, 3, 5, 0, 4, 6, 2)] == [1, 2, 3, 4, 5, 6, 7]
    top, middle = summary["groups"]["top"], summary["groups"]["middle"]
    assert (top["n_features"], top["n_rated"], middle["n_features"], middle["n_rated"]) == (3, 3, 4, 3)
    assert top["mean_I"] == pytest.approx((0.828125 + 0.625 + 0.5) / 3)
    assert middle["mean_I"] == pytest.approx((0.140625 + 0.0625 + 0.0) / 3)
    assert top["mean_importance"] == pytest.approx((0.9 + 0.9 + 0.7) / 3)
    assert middle["mean_importance"] == pytest.approx((0.5 + 0.3 + 0.2 + 0.1) / 4)
    assert summary["mean_importance"] == pytest.approx(3.65 / 8)
    # Every top I exceeds every middle I: U = 3*3 = 9; exact two-sided p = 2 * 1/C(6,3) = 0.1.
    assert summary["mann_whitney"] == {"U": 9.0, "p": pytest.approx(0.1), "method": "exact"}
    flagged = [(r["participant"], r["feature"], r["problems"], r["kept"]) for r in summary["flagged_rows"]]
    assert flagged == [
        ("alice", 6, ["question1='7' is outside 1-5"], False),
        ("bob", 2, ["question1 is missing"], False),
        ("bob", 4, ["question1='2.5' is not an integer"], False),
    ]
    assert summary["invalid_policy"] == "excluded"
    assert summary["n_rows_used"] == 12 - 3


def test_analyze_keeps_numeric_invalid_rows(study):
    importance, answers, out = study
    summary = analyze(importance, answers, out, top=3, keep_invalid=True)
    features = features_by_id(summary)
    assert features[6]["I"] == (0.75 + 0.0) / 2
    assert features[4]["I"] == (0.0625 + 0.34375) / 2
    assert features[2]["I"] is None  # a missing answer is never usable
    assert summary["groups"]["middle"]["mean_I"] == pytest.approx((0.140625 + 0.203125 + 0.375) / 3)
    assert [r["kept"] for r in summary["flagged_rows"]] == [True, False, True]
    assert summary["invalid_policy"] == "kept"
    assert "were kept with their values as they are" in (out / "report.md").read_text()


def test_outputs_written(study):
    importance, answers, out = study
    summary = analyze(importance, answers, out, top=3)
    assert json.loads((out / "summary.json").read_text()) == json.loads(json.dumps(summary))
    report = (out / "report.md").read_text()
    assert "](interpretability_hist.png)" in report and "](interpretability_vs_importance.png)" in report
    assert "- feature 6 (a1.csv line 7, participant alice): question1='7' is outside 1-5 -> excluded" in report
    for name in ("interpretability_hist.png", "interpretability_vs_importance.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG")
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_agreement_by_hand(study):
    # Shared rated features 0, 1, 3: alice (0.125, 1.0, 0.25) ranks (1, 3, 2), bob (0.15625,
    # 0.65625, 1.0) ranks (1, 2, 3); d = (0, 1, -1), rho = 1 - 6*2/(3*(9-1)) = 0.5.
    # Mean |difference| = (0.03125 + 0.34375 + 0.75)/3 = 0.375.
    importance, answers, out = study
    (record,) = analyze(importance, answers, out, top=3)["agreement"]
    assert record["participants"] == ["alice", "bob"] and record["n_shared"] == 3
    assert record["spearman"] == pytest.approx(0.5)
    assert record["mean_abs_difference"] == pytest.approx(0.375)
    assert pair_agreement({1: 0.5, 2: 0.5, 3: 0.5}, {1: 0.0, 2: 1.0, 3: 0.5})["spearman"] is None


def test_groups_file_overrides_rank(study, tmp_path):
    importance, answers, out = study
    groups = write_csv(tmp_path / "groups.csv", ["order", "feature_ind", "group", "importance", "rank"],
                       [[1, 1, "top", 0.9, 1], [2, 3, "top", 0.9, 2], [3, 7, "top", 0.05, 8],
                        [4, 5, "middle", 0.7, 3], [5, 0, "middle", 0.5, 4], [6, 4, "middle", 0.3, 5],
                        [7, 6, "middle", 0.2, 6], [8, 2, "middle", 0.1, 7]])
    summary = analyze(importance, answers, out, groups_csv=groups)
    top = summary["groups"]["top"]
    assert features_by_id(summary)[5]["group"] == "middle"
    assert (top["n_features"], top["n_rated"]) == (3, 2)  # channel 7 is a member nobody rated
    assert top["mean_importance"] == pytest.approx((0.9 + 0.9 + 0.05) / 3)
    assert top["mean_I"] == pytest.approx((0.828125 + 0.625) / 2)


def test_mann_whitney_by_hand():
    # Pairs (top > middle) for top (1, 3, 5) vs middle (2, 3, 4, 0):
    # 1 beats 0 -> 1; 3 beats 2, 0 and ties 3 -> 2.5; 5 beats all four -> 4. U = 7.5.
    top, middle = [1.0, 3.0, 5.0], [2.0, 3.0, 4.0, 0.0]
    result = mann_whitney(top, middle)
    assert result["U"] == 7.5
    assert result["method"] == "asymptotic"  # the tie rules out the exact distribution
    assert result["p"] == stats.mannwhitneyu(top, middle, alternative="two-sided").pvalue


def test_bootstrap_interval():
    top, middle = [0.5, 0.625, 0.828125], [0.0, 0.0625, 0.140625]
    ci = bootstrap_difference(top, middle, resamples=2000, seed=1)
    assert ci["difference"] == pytest.approx(1.953125 / 3 - 0.203125 / 3)
    # Resampled means stay inside each group's range: min(top) - max(middle) = 0.359375 and
    # max(top) - min(middle) = 0.828125 bound every resampled difference.
    assert 0.359375 <= ci["low"] <= ci["difference"] <= ci["high"] <= 0.828125
    assert ci == bootstrap_difference(top, middle, resamples=2000, seed=1)


def test_bad_inputs_are_user_errors(study, tmp_path):
    importance, answers, out = study
    other_layer = write_csv(tmp_path / "c.csv", ANSWER_HEADER, answer_rows([(1, 3, 3, 3)], layer="mixed4e"))
    unknown = write_csv(tmp_path / "d.csv", ANSWER_HEADER, answer_rows([(12, 3, 3, 3)]))
    no_q4 = write_csv(tmp_path / "e.csv", ANSWER_HEADER[:6], [r[:6] for r in answer_rows([(1, 3, 3, 3)])])
    only_top = write_csv(tmp_path / "f.csv", ANSWER_HEADER, answer_rows([(1, 3, 3, 3)]))
    cases = {
        other_layer: "rates InceptionV1/mixed4e, but the importance file is for InceptionV1/mixed5a",
        unknown: "feature 12 is not in",
        no_q4: "missing column(s) question4",
        str(tmp_path / "absent.csv"): "cannot read",
        only_top: "no feature of the middle group has a usable rating",
    }
    for path, message in cases.items():
        with pytest.raises(UserError, match=re.escape(message)):
            analyze(importance, [path], out, top=3)


def run_cli(*args):
    command = [sys.executable, "-m", "inception_tools", "analyze", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize("problem", ["missing column", "unreadable file"])
def test_cli_errors_are_one_line(tmp_path, problem):
    importance = write_csv(tmp_path / "imp.csv", ["model", "layer", "feature_ind", "importance"],
                           [["InceptionV1", "mixed5a", c, v] for c, v in IMPORTANCE.items()])
    answers = {
        "missing column": write_csv(tmp_path / "a.csv", ANSWER_HEADER[:4], [answer_rows([(1, 3, 3, 3)])[0][:4]]),
        "unreadable file": str(tmp_path / "nowhere.csv"),
    }[problem]
    result = run_cli("--importance", importance, "--answers", answers, "--out", str(tmp_path / "out"))
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")
    assert not (tmp_path / "out").exists()


def test_cli_prints_summary(tmp_path, capsys):
    importance = write_csv(tmp_path / "imp.csv", ["model", "layer", "feature_ind", "importance"],
                           [["InceptionV1", "mixed5a", c, v] for c, v in IMPORTANCE.items()])
    answers = write_csv(tmp_path / "ann.csv", ANSWER_HEADER, answer_rows(ALICE))
    parser = argparse.ArgumentParser()
    cli_analyze.add_parser(parser.add_subparsers())
    args = parser.parse_args(
        ["analyze", "--importance", importance, "--answers", answers, "--top", "3", "--out", str(tmp_path / "out")]
    )
    assert args.func(args) == 0
    out = capsys.readouterr().out
    # alice alone: top I (1.0, 0.25, 0.5) mean 0.5833; middle (0.125, 0.0625) mean 0.09375.
    assert "top: 3 features (3 rated), mean importance 0.8333, mean I 0.5833" in out
    assert "middle: 3 features (2 rated), mean importance 0.3333, mean I 0.09375" in out
    assert "U = 6, p = 0.2" in out  # all 3*2 pairs favour top; exact p = 2 * 1/C(5,2)
    assert "feature 6 (ann.csv line 7, participant ann): question1='7' is outside 1-5 -> excluded" in out


def test_repeated_answers_and_a_file_given_twice_are_counted_once_with_a_warning(study, tmp_path):
    importance, answers, out = study
    once = analyze(importance, answers, out, top=3)
    assert once["warnings"] == []
    twice = analyze(importance, [answers[0], *answers], tmp_path / "twice", top=3)
    assert any("more than once" in w for w in twice["warnings"])  # before: counted twice, silently
    assert twice["groups"] == once["groups"] and twice["n_answer_rows"] == once["n_answer_rows"]
    rows = Path(answers[0]).read_text().splitlines()
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("\n".join(rows + rows[1:3]) + "\n")
    summary = analyze(importance, [repeated, answers[1]], tmp_path / "rep", top=3)
    assert any("2 answer row(s) repeat" in w for w in summary["warnings"])
    assert summary["groups"] == once["groups"]


def test_an_output_over_an_input_is_refused(study, tmp_path):
    importance, answers, _ = study
    out = Path(answers[0]).parent
    clash = out / "summary.json"
    clash.write_text(Path(answers[0]).read_text())
    with pytest.raises(UserError, match="is also the answers file"):
        analyze(importance, [clash, answers[1]], out, top=3)
