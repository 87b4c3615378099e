"""What every API function shares: argument checks, and a folder that is gone afterwards unless asked for."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile

from inception_tools.errors import UserError


def _check_model(model):
    """UserError unless ``model`` is a loaded model (a name such as ``"embedded"`` is not)."""
    from inception_tools.models.model import Model

    if not isinstance(model, Model):
        hint = f" (it.load_model({model!r}) loads one)" if isinstance(model, str) else " (from it.load_model)"
        raise UserError(f"model must be a loaded model{hint}, not {type(model).__name__} {str(model)[:40]!r}")
    return model


def _check_dataset(dataset):
    """UserError unless ``dataset`` is a loaded dataset (a folder name is not)."""
    from inception_tools.data.dataset import Dataset

    if not isinstance(dataset, Dataset):
        raise UserError(f"dataset must be a loaded dataset (from it.load_dataset), not {type(dataset).__name__} "
                        f"{str(dataset)[:40]!r}")
    return dataset


@contextlib.contextmanager
def _folder(out):
    """``out``, or a temporary folder removed afterwards (results are read into memory before it goes)."""
    if out is not None:
        yield os.fspath(out)
        return
    with tempfile.TemporaryDirectory(prefix="inception_tools-") as folder:
        yield folder


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _refuse_overwrite(out, *inputs):
    """A one-line UserError when the output path is one of the inputs."""
    for path in inputs:
        if os.path.realpath(os.fspath(out)) == os.path.realpath(os.fspath(path)):
            raise UserError(f"the output {out} is an input: choose another path")
