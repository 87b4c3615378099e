"""Where things live: the study's tables, file helpers, model defaults and study paths each have one home."""

import ast
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "inception_tools"
STUDY_FILES = ("importance.csv", "importance.json", "groups.csv", "answers.csv", "examples.json",
               "settings.json", "importance_hist.png", ".locked.json", ".partial.npz")


def imported_by(module):
    """The inception_tools modules that importing ``module`` loads, in a fresh interpreter."""
    code = f"import sys, {module}; print('\\n'.join(m for m in sys.modules if m.startswith('inception_tools')))"
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())


@pytest.mark.parametrize("module", ["inception_tools.selection", "inception_tools.plots", "inception_tools.gallery",
                                    "inception_tools.survey"])
def test_the_study_tables_are_read_without_the_analysis_stage(module):
    loaded = imported_by(module)
    assert "inception_tools.tables" in loaded
    assert not [m for m in loaded if m.startswith("inception_tools.analysis")]


def test_the_survey_does_not_import_the_gallery():
    assert "inception_tools.gallery" not in imported_by("inception_tools.survey")


def test_examples_do_not_import_the_visualizations():
    assert "inception_tools.visualization" not in imported_by("inception_tools.examples")


def test_model_defaults_live_in_the_catalog():
    from inception_tools.models import catalog

    assert catalog.entry("InceptionV1").default_layer == "mixed5a"
    assert catalog.entry("embedded").default_layer == "mixed3a" and catalog.entry("embedded").steps == 256
    assert catalog.entry("embedded").group_size_for(96) == 24 and catalog.entry("InceptionV1").group_size_for(832) == 40
    for path in (PACKAGE / "cli").glob("*.py"):
        names = {n.id for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Name)}
        assert not names & {"DEFAULT_LAYERS", "DEFAULT_STEPS"}, path.name


def test_only_layout_spells_the_study_file_names():
    # importance/run.py names the files of its own partial folder; nothing else spells a study path.
    for path in PACKAGE.rglob("*.py"):
        if path.name == "layout.py":
            continue
        strings = [n.value for n in ast.walk(ast.parse(path.read_text()))  # names, not messages or help
                   if isinstance(n, ast.Constant) and isinstance(n.value, str) and not any(c.isspace() for c in n.value)]
        assert not [s for s in strings if s.endswith(STUDY_FILES)], path
