"""What every API function shares: argument checks."""

from __future__ import annotations

import os

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


def _refuse_overwrite(out, *inputs):
    """A one-line UserError when the output path is one of the inputs."""
    for path in inputs:
        if os.path.realpath(os.fspath(out)) == os.path.realpath(os.fspath(path)):
            raise UserError(f"the output {out} is an input: choose another path")
