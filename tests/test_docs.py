"""The documentation site builds with no warning (`mkdocs build --strict`), and its pages cover what they must."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _build(site, docs_dir=None, config=None):
    pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install -e '.[docs]')")
    pytest.importorskip("material", reason="the docs extra is not installed (pip install -e '.[docs]')")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config or
                           ROOT / "mkdocs.yml"), "-d", str(site)], cwd=ROOT, env=env, capture_output=True, text=True)


def test_the_site_builds_strictly(tmp_path):
    result = _build(tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    api = (tmp_path / "site" / "reference" / "api" / "index.html").read_text()
    for name in ("load_model", "importance", "reliability", "render", "examples"):
        assert f'id="inception_tools.api.{name}"' in api  # the reference is generated from the docstrings
    assert (tmp_path / "site" / "guides" / "study" / "index.html").is_file()


def test_a_broken_link_fails_the_build_and_a_new_guide_joins_the_nav(tmp_path):
    # A copy of the docs with one more guide: it is in the nav without an edit of mkdocs.yml, and
    # its broken link fails the strict build.
    import shutil

    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs)
    config = tmp_path / "mkdocs.yml"
    config.write_text((ROOT / "mkdocs.yml").read_text().replace("docs_dir: docs", f"docs_dir: {docs}")
                      .replace("scripts/mkdocs_hooks.py", str(ROOT / "scripts" / "mkdocs_hooks.py")))
    (docs / "guides" / "zz-new-stage.md").write_text("# A new stage\n\nSee [the study](study.md#importance).\n")
    result = _build(tmp_path / "site", config=config)
    assert result.returncode == 0, result.stdout + result.stderr
    index = (tmp_path / "site" / "index.html").read_text()
    assert "zz-new-stage/" in index and "A new stage" in index
    (docs / "guides" / "zz-new-stage.md").write_text("# A new stage\n\nSee [nothing](missing.md).\n")
    result = _build(tmp_path / "site2", config=config)
    assert result.returncode != 0 and "missing.md" in result.stdout + result.stderr


def test_every_command_has_its_function_in_the_table():
    commands = importlib.import_module("inception_tools.cli").COMMANDS
    table = (ROOT / "docs" / "reference" / "commands.md").read_text()
    rows = dict(re.findall(r"^\| `inception-tools ([a-z-]+)` \| ([^|]+) \|", table, re.M))
    assert {c.replace("_", "-") for c in commands} <= set(rows)
    assert rows["visualize"].strip() == "`it.render`" and rows["importance"].strip() == "`it.importance`"
