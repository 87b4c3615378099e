"""What a worker needs to rebuild a run's model, network and data itself: names and paths, no graphs."""

import dataclasses
import hashlib
from typing import Optional

import numpy as np

from inception_tools.errors import UserError


@dataclasses.dataclass(frozen=True)
class Recipe:
    """The model, layer and data of a run, as a worker loads them (``load_model``, ``load_dataset``).

    ``model_path`` is the resolved file the driver reads; every node needs it at the same path,
    and ``data`` likewise (``"embedded"`` ships with the toolkit). ``data`` is None for renders.
    ``layers``: every layer the run reads (default: ``layer`` alone), checked when the model loads.
    """

    model: str
    model_path: str
    layer: str
    pixel_scaling: str = "once"
    data: Optional[str] = None
    resize: Optional[str] = None
    limit: Optional[int] = None
    layers: tuple = ()
    reading: Optional[object] = None  # a data.reading.Reading: how the photos are read (a shared cache folder)


_LOADED = {}  # per worker process: the last recipe's (model, dataset)


def load(recipe: Recipe):
    """``(model, dataset)`` of ``recipe`` (dataset None without data), loaded once per worker process."""
    if recipe not in _LOADED:
        from inception_tools.data import load_dataset
        from inception_tools.models import load_model

        _LOADED.clear()
        model = load_model(recipe.model, recipe.model_path, layers=list(recipe.layers or [recipe.layer]))
        dataset = None if recipe.data is None else load_dataset(recipe.data, model, recipe.resize, recipe.limit,
                                                                   recipe.reading)
        _LOADED[recipe] = model, dataset
    return _LOADED[recipe]


def images_digest(ids, labels) -> str:
    """sha256 of image ids and labels: a worker checks its data is the driver's."""
    digest = hashlib.sha256("\n".join(map(str, ids)).encode())
    digest.update(np.asarray(labels, np.int64).tobytes())
    return digest.hexdigest()


def check_same_images(dataset, digest: str, where: str):
    """UserError unless ``dataset`` holds the driver's images (ids and labels) in the same order."""
    if images_digest(dataset.ids, dataset.labels) != digest:
        raise UserError(f"the data on {where} differs from the driver's (other images, order or labels): "
                        "every Ray node needs the same data at the same path")


def select_images(dataset, ids):
    """The images of ``dataset`` named by ``ids``, in that order (a subset such as ``--ablation-images``).

    ``dataset`` itself when ``ids`` are all of it in order; a UserError when one is missing.
    """
    ids = [str(i) for i in ids]
    if ids == [str(i) for i in dataset.ids]:
        return dataset
    row_of = {str(image_id): row for row, image_id in enumerate(dataset.ids)}
    missing = [image_id for image_id in ids if image_id not in row_of]
    if missing:
        raise UserError(f"image {missing[0]!r} of the driver's data is not in the data on a Ray worker: "
                        "every Ray node needs the same data at the same path")
    return dataset.reordered([row_of[image_id] for image_id in ids])
