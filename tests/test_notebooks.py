"""The notebooks of notebooks/ run top to bottom (nbclient): on the embedded model, and on InceptionV1 from ../shared.

They are stored without outputs; a run here must finish without an error and draw its figures (the
notebooks' own asserts check their numbers). The InceptionV1 runs are tiny (a few photos, a few steps)
and skip without ../shared; they are slow tests (`bash scripts/test.sh -m slow -k notebooks`).
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAMES = [p.stem for p in NOTEBOOKS]


def _execute(path, tmp_path, model, shared=None, timeout=600):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and not any(cell.outputs or cell.execution_count for cell in code), f"{path.name} is stored with outputs"
    env = dict(os.environ, INCEPTION_TOOLS_NOTEBOOK_MODEL=model, TMPDIR=str(tmp_path),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    if shared:
        env["INCEPTION_TOOLS_SHARED"] = str(shared)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env)
    return nb


def _figures(nb):
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)


def test_there_are_the_four_notebooks():
    assert {"study", "feature_visualization", "building_blocks", "reliability"} <= set(NAMES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_a_notebook_runs_on_the_embedded_model(path, tmp_path):
    nb = _execute(path, tmp_path, "embedded")
    assert _figures(nb) >= 1


@pytest.mark.slow  # 31-125 s each on 2 shared cores (InceptionV1 at 224 px, a few photos and steps)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_a_notebook_runs_on_inceptionv1(path, tmp_path, inceptionv1_path, imagenet_sample):
    shared = Path(inceptionv1_path).parents[2]
    nb = _execute(path, tmp_path, "InceptionV1", shared=shared)
    assert _figures(nb) >= 1
