"""The attribution stage: every chosen saliency method's map of every image, as arrays, overlays and pages.

Files in the output folder (:func:`write`):

- ``maps/<stem>/<method>.npy``: float32 [H, W], the map at the model's input
  resolution (see :mod:`inception_tools.attribution.methods`);
- ``overlays/<stem>/<method>.png`` and ``overlays/<stem>/image.png``;
- ``pages/<stem>.png`` and ``pages/<stem>.html``: all methods side by side;
- ``attribution.npz`` (``maps`` [methods, N, H, W], ``images`` uint8, ``targets``,
  ``scores``, ``ids``, ``methods``), ``attribution.json`` (settings and per-image
  class), ``index.html``: written last, so their presence means finished.

``<stem>`` is the image's position and its id made file-safe (``0000_dog_cat``).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Optional

import numpy as np

from inception_tools import progress, runner
from inception_tools.attribution import methods as registry
from inception_tools.attribution import page, targets
from inception_tools.attribution.overlay import blend, to_uint8
from inception_tools.errors import UserError

NPZ = "attribution.npz"
JSON = "attribution.json"
INDEX = "index.html"
CHUNK = 32  # images per checkpoint group


@dataclasses.dataclass(frozen=True)
class AttributeConfig:
    """Settings of an attribution run.

    Attributes:
        methods: method names (see :data:`inception_tools.attribution.methods.METHODS`).
        target: ``top`` (each image's highest logit), or a class index, label id or name.
        layer: the layer of Grad-CAM and Guided Grad-CAM (required by them, refused without them).
        ig_steps: integrated gradients' midpoint-rule points.
        smoothgrad_samples: SmoothGrad's noisy copies per image.
        smoothgrad_noise: SmoothGrad's noise std as a fraction of the pixel range.
        seed: SmoothGrad's noise seed.
        batch_size: images (and path points / noisy copies) per run.
    """

    methods: tuple = tuple(registry.METHODS)
    target: str = targets.TOP
    layer: Optional[str] = None
    ig_steps: int = 16
    smoothgrad_samples: int = 8
    smoothgrad_noise: float = 0.15
    seed: int = 0
    batch_size: int = 8

    def __post_init__(self):
        object.__setattr__(self, "methods", registry.check_methods_and_layer(self.methods, self.layer))
        check_settings(self)

    def settings(self) -> registry.Settings:
        return registry.Settings(self.ig_steps, self.smoothgrad_samples, self.smoothgrad_noise, self.seed,
                                 self.batch_size)


def check_settings(config) -> None:
    """Refuse non-positive counts and a negative noise or seed (UserError naming the field)."""
    for field in ("ig_steps", "smoothgrad_samples", "batch_size"):
        if not isinstance(getattr(config, field), int) or getattr(config, field) < 1:
            raise UserError(f"{field} must be a positive integer, not {getattr(config, field)!r}")
    if not 0 <= config.smoothgrad_noise < float("inf"):
        raise UserError(f"smoothgrad_noise must be a finite number >= 0, not {config.smoothgrad_noise}")
    if not isinstance(config.seed, int) or config.seed < 0:
        raise UserError(f"seed must be a non-negative integer, not {config.seed!r}")


@dataclasses.dataclass
class Attribution:
    """Maps of every method for every image.

    Attributes:
        methods: method names, the first axis of ``maps``.
        maps: float32 [methods, N, H, W].
        images: float32 [N, H, W, 3] in [0, 1], what the model saw.
        ids: image ids.
        targets: int64 [N], the class each map explains.
        class_names: the label name of each target.
        scores: float32 [N], the target's logit.
        layer: Grad-CAM's layer or None.
        model: the model's name.
    """

    methods: tuple
    maps: np.ndarray
    images: np.ndarray
    ids: list
    targets: np.ndarray
    class_names: list
    scores: np.ndarray
    layer: Optional[str]
    model: str

    def map(self, method: str, image: int = 0) -> np.ndarray:
        """float32 [H, W]: the map of ``method`` for image ``image``."""
        return self.maps[self.methods.index(method), image]


def check(model, config: AttributeConfig) -> None:
    """The checks that need the model (the layer exists, the class is one of its classes): UserError."""
    if config.layer is not None:
        model.depth(config.layer)
    targets.check_class(config.target, model)


def compute(model, dataset, config: AttributeConfig, checkpoint=None) -> Attribution:
    """Every method's map of every image of ``dataset`` (in memory, nothing written).

    Args:
        model: a loaded :class:`~inception_tools.models.model.Model`.
        dataset: a :class:`~inception_tools.data.dataset.Dataset`.
        config: the :class:`AttributeConfig`.
        checkpoint: a :class:`~inception_tools.runner.Checkpoint` (maps saved per 32 images).

    Returns:
        :class:`Attribution`.
    """
    checkpoint = checkpoint or runner.Checkpoint()
    check(model, config)
    n = len(dataset)
    with registry.Graphs(model, config.methods, config.layer) as graphs:
        logits = np.concatenate([graphs.plain.logits_of(dataset.images(s, s + config.batch_size))
                                 for s in range(0, n, config.batch_size)])
        chosen = targets.resolve(config.target, model, logits)
        parts = []
        with progress.bar(total=n, desc="attribution", unit="img") as bar:
            for start in range(0, n, CHUNK):
                stop = min(start + CHUNK, n)
                saved = checkpoint.load(f"maps{start:06d}")
                if saved is None:
                    saved = {"maps": registry.maps(graphs, lambda a, b: dataset.images(start + a, start + b),
                                                   stop - start, chosen[start:stop], config.settings(), first=start)}
                    checkpoint.save(f"maps{start:06d}", **saved)
                parts.append(saved["maps"])
                bar.update(stop - start)
        maps = np.concatenate(parts, axis=1)
    return Attribution(config.methods, maps, dataset.images(0, n), list(dataset.ids), chosen,
                       [model.label_names[c] for c in chosen], logits[np.arange(n), chosen].astype(np.float32),
                       config.layer, model.name)


def stems(ids) -> list:
    """File-safe, unique names of the images: position and id (``0003_n01440764_10026``)."""
    return [f"{i:04d}_" + re.sub(r"[^A-Za-z0-9_-]+", "_", re.sub(r"\.[A-Za-z]+$", "", str(image_id)))[:60]
            for i, image_id in enumerate(ids)]


def write(result: Attribution, folder: runner.Folder) -> None:
    """Every file of the stage (see the module docstring); the summary files last."""
    from PIL import Image

    names = stems(result.ids)
    for i, stem in enumerate(names):
        image = result.images[i]
        with folder.temporary(f"overlays/{stem}/image.png") as tmp:
            Image.fromarray(to_uint8(image)).save(tmp, format="png")
        for k, method in enumerate(result.methods):
            folder.write_npy(f"maps/{stem}/{method}.npy", result.maps[k, i])
            with folder.temporary(f"overlays/{stem}/{method}.png") as tmp:
                Image.fromarray(to_uint8(blend(image, result.maps[k, i]))).save(tmp, format="png")
        fig = page.side_by_side(image, result.maps[:, i], result.methods,
                                f"{result.ids[i]}: {result.class_names[i]} (logit {result.scores[i]:.2f})")
        with folder.temporary(f"pages/{stem}.png") as tmp:
            fig.savefig(tmp, format="png", dpi=100)
        page.plt.close(fig)
        with folder.open(f"pages/{stem}.html", encoding="utf-8") as f:
            f.write(page.image_page(stem, result.ids[i], result.class_names[i], result.methods))
    folder.write_npz(NPZ, maps=result.maps, images=to_uint8(result.images), targets=result.targets,
                     scores=result.scores, ids=np.array(result.ids), methods=np.array(result.methods),
                     class_names=np.array(result.class_names))
    folder.write_json(JSON, {"model": result.model, "methods": list(result.methods), "layer": result.layer,
                             "images": [{"id": image_id, "stem": stem, "target": int(t), "class": name,
                                         "score": float(s)} for image_id, stem, t, name, s in
                                        zip(result.ids, names, result.targets, result.class_names, result.scores)]})
    with folder.open(INDEX, encoding="utf-8") as f:
        f.write(page.index_page(list(zip(names, result.ids, result.class_names)), result.model))


def read(folder: runner.Folder) -> Attribution:
    """The :class:`Attribution` of a finished folder."""
    with np.load(folder.file(NPZ), allow_pickle=False) as saved:
        summary = folder.read_json(JSON)
        return Attribution(tuple(str(m) for m in saved["methods"]), saved["maps"],
                           saved["images"].astype(np.float32) / 255, [str(i) for i in saved["ids"]],
                           saved["targets"], [str(c) for c in saved["class_names"]], saved["scores"],
                           summary["layer"], summary["model"])


STAGE = runner.Stage("attribution", compute, write, outputs=(NPZ, JSON, INDEX), read=read)
