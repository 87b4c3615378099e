"""Checks before any work (inception_tools/guards.py, Model.check_layer, the commands that call them)."""

import os
import shutil

import pytest

from inception_tools.cli import main
from inception_tools.errors import UserError
from inception_tools.guards import check_outputs, check_seed


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "3", True])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(UserError, match="seed must be an integer from 0 to 4294967295"):
        check_seed(seed)


def test_an_output_that_is_an_input_is_refused(tmp_path):
    table = tmp_path / "importance.csv"
    table.write_text("x\n")
    os.symlink(table, tmp_path / "link.csv")
    for out in (table, tmp_path / "link.csv", tmp_path / "sub" / ".." / "importance.csv"):
        with pytest.raises(UserError, match="is also the importance table"):
            check_outputs([("groups file", out)], [("importance table", table)])
    groups = tmp_path / "groups.csv"
    groups.write_text("y\n")
    with pytest.raises(UserError, match="would replace the study's survey groups"):
        check_outputs([("importance table", groups)], [], kind="importance.csv")
    check_outputs([("groups file", groups)], [("importance table", table)], kind="groups.csv")  # its own kind: fine


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    """A 40-image importance scan of the embedded model (the CSV, its .json and outcomes)."""
    out = tmp_path_factory.mktemp("scan") / "importance.csv"
    assert main(["importance", "--limit", "40", "--out", str(out)]) == 0
    return out


def snapshot(folder):
    return {name: open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))}


def test_select_out_equal_to_its_input_changes_nothing(scan, capsys):
    before = snapshot(scan.parent)
    assert main(["select", "--importance", str(scan), "--top", "4", "--middle", "4", "--out", str(scan)]) == 2
    assert "is also the importance table" in capsys.readouterr().err
    assert snapshot(scan.parent) == before  # before: importance.csv held the groups


def test_importance_out_over_a_table_of_other_settings_is_refused(scan, tmp_path, capsys):
    out = tmp_path / "importance.csv"
    for name in os.listdir(scan.parent):
        shutil.copy(scan.parent / name, tmp_path / name)
    before = snapshot(tmp_path)
    assert main(["importance", "--limit", "20", "--out", str(out)]) == 2
    assert "was made with inputs.n_images=40 (now 20)" in capsys.readouterr().err
    assert main(["importance", "--limit", "40", "--ablation", "zero", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "was made with config.ablation='mean' (now 'zero')" in error
    assert snapshot(tmp_path) == before  # before: replaced silently (run refused the same case)
    foreign = tmp_path / "foreign.csv"
    foreign.write_text("a,b\n1,2\n")
    assert main(["importance", "--limit", "20", "--out", str(foreign)]) == 2
    assert "settings are unknown" in capsys.readouterr().err and foreign.read_text() == "a,b\n1,2\n"


def test_reliability_bad_group_size_changes_nothing(scan, capsys):
    before = snapshot(scan.parent)
    assert main(["reliability", "--importance", str(scan), "--top", "500"]) == 2
    assert "group size must be an integer from 1 to 48" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reliability", "--importance", str(scan), "--top", "0"])  # before: 0 silently meant the default
    assert snapshot(scan.parent) == before  # before: exit 0, NaN, importance.json rewritten


@pytest.mark.parametrize("argv, message", [
    (["importance", "--layer", "mixed3a_pre_relu"], "give mixed3a"),
    (["importance", "--layer", "softmax2"], "is the model's output"),
    (["basis", "--layer", "mixed3a_pre_relu"], "give mixed3a"),
    (["basis", "--layer", "softmax2"], "is the model's output"),
    (["classes", "--layers", "mixed3a_pre_relu"], "give mixed3a"),
    (["classes", "--layers", "mixed3a,mixed3a"], "mixed3a twice"),
    (["examples", "--layer", "softmax2"], "no softmax2_pre_relu"),
    (["importance", "--top-k", "10"], "top_k must be an integer from 1 to 9"),
    (["basis", "--top-k", "10"], "top_k must be an integer from 1 to 9"),
    (["basis", "--vectors", "97"], "the basis has vectors 1-96"),
])
def test_layers_and_values_a_command_cannot_use_are_refused_before_any_work(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    assert main([*argv, "--limit", "30", "--out", str(out)]) == 2  # before: a traceback from the surgery
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("argv", [["importance", "--seed", "-1"], ["importance", "--shuffle-seed", "-2"],
                                  ["classes", "--seed", "-1"], ["basis", "--seed", str(2**32)],
                                  ["basis", "--ablation-images", "0"], ["blocks", "--n-classes", "0"]])
def test_bad_numbers_are_refused_while_parsing(argv, capsys):
    with pytest.raises(SystemExit):
        main([*argv, "--limit", "30"])  # before: a negative seed failed after the whole scan
    assert "error: argument" in capsys.readouterr().err


def test_the_help_says_which_layers_each_command_takes(capsys):
    for command, words in (("importance", "without _pre_relu"), ("examples", "_pre_relu tensor"),
                           ("classes", "softmax2 is allowed")):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert words in " ".join(capsys.readouterr().out.split())


def test_the_library_refuses_layers_without_flag_names(embedded_model):
    from inception_tools.surgery import Network

    for layer, purpose, message in (("mixed3a_pre_relu", "ablate", "give mixed3a"),
                                    ("softmax2", "ablate", "model's output"),
                                    ("softmax2", "visualize", "no softmax2_pre_relu"),
                                    ("nope", "activations", "unknown layer")):
        with pytest.raises(UserError, match=message) as e:
            embedded_model.check_layer(layer, purpose)
        assert "--" not in str(e.value)
    assert embedded_model.check_layer("softmax2", "activations") == "softmax2"
    with pytest.raises(UserError, match="give mixed3a"):
        Network(embedded_model, "mixed3a_pre_relu")


def test_blocks_refuses_more_classes_than_the_model_has(tmp_path, capsys):
    from PIL import Image

    image = tmp_path / "digit.png"
    Image.new("RGB", (28, 28), (200, 10, 10)).save(image)
    out = tmp_path / "page"
    assert main(["blocks", "--image", str(image), "--n-classes", "50", "--out", str(out)]) == 2
    assert "n_classes must be from 1 to 10" in capsys.readouterr().err  # before: accepted
    assert not out.exists()


def test_importance_out_equal_to_its_data_is_refused(tmp_path, capsys):
    import numpy as np

    data = tmp_path / "digits.npz"
    np.savez(data, data=np.zeros((20, 12288), np.uint8), labels=np.arange(20) % 10)
    before = data.read_bytes()
    assert main(["importance", "--data", str(data), "--resize", "center-crop", "--out", str(data)]) == 2
    assert "is also the dataset" in capsys.readouterr().err and data.read_bytes() == before


def test_the_basis_library_refuses_zero_ablation_images():
    from inception_tools.basis.config import BasisConfig

    with pytest.raises(UserError, match="ablation_images must be at least 1"):  # before: 0 meant every image
        BasisConfig(ablation_images=0)
    with pytest.raises(UserError, match="seed must be an integer"):
        BasisConfig(seed=-1)
