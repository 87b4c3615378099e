"""The command line's shared checks: channel lists, numbers, one-line write errors (cli/__init__, cli/options)."""

import csv
import os
import shutil
import tracemalloc

import pytest

from inception_tools.cli import build_parser, main
from inception_tools.cli.options import parse_channels
from inception_tools.errors import UserError

IMPORTANCE_HEADER = ["model", "layer", "feature_ind", "importance", "newly_wrong", "newly_right", "mcnemar_p",
                     "mean_delta_logprob"]


@pytest.mark.parametrize("spec, expected", [("3", [3]), ("0-2,7", [0, 1, 2, 7]), ("4-4", [4]), (" 1 , 0 ", [0, 1])])
def test_channel_lists(spec, expected):
    assert parse_channels(spec, 8) == expected


@pytest.mark.parametrize("spec, message", [
    ("5-2", "first channel is larger than the last"),  # before: an empty selection
    ("8", "channel 8 out of range"),
    ("-1", "channel -1 out of range"),
    ("2-x", "bad channel list"),
    ("", "bad channel list"),
])
def test_bad_channel_lists_are_user_errors(spec, message):
    with pytest.raises(UserError, match=message):
        parse_channels(spec, 8)


def test_a_huge_range_is_refused_before_it_is_built():
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match="channel 2000000 out of range"):
            parse_channels("0-2000000", 96)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # before: a set of two million ints, over 100 MB


def write_study_importance(path, channels=range(96)):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(IMPORTANCE_HEADER)
        writer.writerows(["embedded", "mixed3a", c, c % 7 - 3, 1, 0, 1.0, -0.01] for c in channels)
    return str(path)


def test_an_empty_range_never_replaces_an_existing_result(tmp_path, capsys):
    out = write_study_importance(tmp_path / "importance.csv")
    before = open(out).read()
    assert main(["importance", "--limit", "20", "--channels", "5-2", "--out", out]) == 2
    assert capsys.readouterr().err.startswith("error: bad channel range '5-2'")
    assert open(out).read() == before


@pytest.mark.parametrize("argv", [
    ["importance", "--batch-size", "0"],  # before: a partial folder was left behind
    ["importance", "--top-k", "0"],  # before: quietly the model's default
    ["run", "--top-k", "0"],
    ["examples", "-k", "0"],
    ["visualize", "--diversity-weight", "nan"],  # before: accepted, and its settings never matched again
    ["visualize", "--steps", "0"],
    ["survey", "--study", "s", "--participant", "a", "--port", "70000"],  # before: OverflowError traceback
])
def test_bad_numbers_are_refused_while_parsing(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit:
        build_parser().parse_args(argv)
    assert exit.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith("inception-tools ")
    assert os.listdir(tmp_path) == []


def test_select_to_a_folder_is_one_line(tmp_path, capsys):
    importance = write_study_importance(tmp_path / "importance.csv")
    (tmp_path / "groups.csv").mkdir()
    assert main(["select", "--importance", importance, "--top", "4", "--middle", "4",
                 "--out", str(tmp_path / "groups.csv")]) == 2
    assert capsys.readouterr().err == f"error: cannot write {tmp_path / 'groups.csv'}: it is a folder\n"


def test_select_below_a_file_is_one_line(tmp_path, capsys):
    importance = write_study_importance(tmp_path / "importance.csv")
    assert main(["select", "--importance", importance, "--top", "4", "--middle", "4",
                 "--out", str(tmp_path / "importance.csv" / "groups.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write {tmp_path / 'importance.csv' / 'groups.csv'}: ") and err.count("\n") == 1


def test_importance_to_a_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "out.csv").mkdir()
    assert main(["importance", "--limit", "20", "--channels", "0", "--out", str(tmp_path / "out.csv")]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"error: cannot write {tmp_path / 'out.csv'}: it is a folder"


def test_analyze_into_a_file_is_one_line(tmp_path, capsys):
    importance = write_study_importance(tmp_path / "importance.csv", range(8))
    answers = tmp_path / "answers.csv"
    rows = [f"embedded,mixed3a,{c},3,x,{1 + c % 5},{1 + (c * 3) % 5},1,1,a" for c in range(8)]
    answers.write_text("model,layer,neuron,question1,text_question,question3,question4,question5,question6,"
                       "participant\n" + "\n".join(rows) + "\n")
    (tmp_path / "report").write_text("a file where the report folder should go")
    assert main(["analyze", "--importance", importance, "--answers", str(answers), "--top", "4",
                 "--resamples", "10", "--out", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot ") and str(tmp_path / "report") in err and err.count("\n") == 1
    assert (tmp_path / "report").read_text() == "a file where the report folder should go"


def test_gallery_page_that_is_a_folder_is_one_line(tmp_path, capsys):
    from browser import write_fake_study

    study = write_fake_study(tmp_path / "study", 4)
    os.makedirs(os.path.join(study, "gallery", "index.html"))
    assert main(["gallery", "--study", str(study)]) == 2
    index = os.path.join(study, "gallery", "index.html")
    assert capsys.readouterr().err.splitlines()[-1] == f"error: cannot write {index}: it is a folder"
    shutil.rmtree(index)
