"""Atomic writes: a result that cannot be written is one UserError, and nothing existing is damaged."""

import os

import pytest

from inception_tools.atomic import atomic_open
from inception_tools.errors import UserError


def test_writes_replace_the_file_whole(tmp_path):
    path = tmp_path / "a" / "result.txt"
    with atomic_open(path) as f:
        f.write("one")
    with atomic_open(path) as f:
        f.write("two")
    assert path.read_text() == "two" and os.listdir(path.parent) == ["result.txt"]


def test_a_folder_in_the_way_is_a_user_error(tmp_path):
    (tmp_path / "result.csv").mkdir()
    (tmp_path / "result.csv" / "kept").write_text("x")
    with pytest.raises(UserError, match="cannot write .*result.csv: it is a folder"):
        with atomic_open(tmp_path / "result.csv") as f:
            f.write("new")
    assert os.listdir(tmp_path) == ["result.csv"] and (tmp_path / "result.csv" / "kept").read_text() == "x"


def test_a_file_where_the_folder_should_be_is_a_user_error(tmp_path):
    (tmp_path / "out").write_text("keep me")
    with pytest.raises(UserError, match="cannot write .*out/result.csv: "):
        with atomic_open(tmp_path / "out" / "result.csv") as f:
            f.write("new")
    assert (tmp_path / "out").read_text() == "keep me"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_a_user_error(tmp_path):
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "result.csv").write_text("old")
    os.chmod(tmp_path / "ro", 0o555)
    try:
        with pytest.raises(UserError, match="cannot write .*result.csv: Permission denied"):
            with atomic_open(tmp_path / "ro" / "result.csv") as f:
                f.write("new")
    finally:
        os.chmod(tmp_path / "ro", 0o755)
    assert (tmp_path / "ro" / "result.csv").read_text() == "old"


def test_errors_inside_the_block_pass_through_untouched(tmp_path):
    with pytest.raises(KeyError):
        with atomic_open(tmp_path / "r.txt") as f:
            f.write("half")
            raise KeyError("mine")
    assert os.listdir(tmp_path) == []
