"""The saliency methods by name, and their maps at input resolution for a batch of images.

Each method's module (``gradient``, ``grad_x_input``, ``smoothgrad``,
``integrated_gradients``, ``guided_backprop``, ``gradcam``, ``guided_gradcam``)
gives its raw attribution; here every method becomes one 2-D map per image
[H, W] at the model's input resolution: the pixel methods' attributions
[H, W, 3] summed over the colour channels (signed), Grad-CAM's own map as it
is. Maps keep their sign; what a comparison takes the absolute value of is
said where it does.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from inception_tools import progress
from inception_tools.attribution import (gradcam, gradient, grad_x_input, guided_backprop, guided_gradcam,
                                         integrated_gradients, smoothgrad)
from inception_tools.attribution.graph import AttributionGraph
from inception_tools.errors import UserError

# name -> (needs a layer, needs the guided graph)
METHODS = {
    "gradient": (False, False),
    "grad-x-input": (False, False),
    "smoothgrad": (False, False),
    "integrated-gradients": (False, False),
    "guided-backprop": (False, True),
    "gradcam": (True, False),
    "guided-gradcam": (True, True),
}


def check_methods(methods: Sequence[str]) -> tuple:
    """``methods`` as a tuple, refusing unknown names, repeats and an empty list (UserError)."""
    methods = tuple(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise UserError(f"unknown method {unknown[0]!r}; choose from {', '.join(METHODS)}")
    if not methods:
        raise UserError("methods is empty; choose from " + ", ".join(METHODS))
    if len(set(methods)) != len(methods):
        raise UserError(f"methods names one twice: {', '.join(methods)}")
    return methods


def needs_layer(methods: Sequence[str]) -> list:
    """The methods of ``methods`` that need a layer (Grad-CAM and Guided Grad-CAM)."""
    return [m for m in methods if METHODS[m][0]]


def check_methods_and_layer(methods: Sequence[str], layer) -> tuple:
    """:func:`check_methods`, and a layer given exactly when a method needs one (UserError otherwise)."""
    methods = check_methods(methods)
    layered = needs_layer(methods)
    if layered and layer is None:
        raise UserError(f"{layered[0]} needs a layer (e.g. mixed4d for InceptionV1, mixed4a for embedded)")
    if layer is not None and not layered:
        raise UserError(f"a layer is used only by gradcam and guided-gradcam, not by {', '.join(methods)}")
    return methods


@dataclasses.dataclass(frozen=True)
class Settings:
    """The methods' own settings."""

    ig_steps: int = 16
    smoothgrad_samples: int = 8
    smoothgrad_noise: float = 0.15
    seed: int = 0
    batch_size: int = 16


class Graphs:
    """The graphs a set of methods needs on one model: the plain one (with the layer if any) and the guided one."""

    def __init__(self, model, methods: Sequence[str], layer=None):
        self.methods = check_methods(methods)
        self.plain = AttributionGraph(model, layer)
        self.guided = AttributionGraph(model, layer, guided=True) if any(METHODS[m][1] for m in methods) else None

    def close(self):
        self.plain.close()
        if self.guided is not None:
            self.guided.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def raw(graphs: Graphs, method: str, inputs, target, settings: Settings, first_index: int = 0) -> np.ndarray:
    """One method's raw attribution of ``inputs`` [N, H, W, 3] ([N, H, W] for Grad-CAM)."""
    plain, guided = graphs.plain, graphs.guided
    if method == "gradient":
        return gradient.attribute(plain, inputs, target)
    if method == "grad-x-input":
        return grad_x_input.attribute(plain, inputs, target)
    if method == "smoothgrad":
        return smoothgrad.attribute(plain, inputs, target, settings.smoothgrad_samples, settings.smoothgrad_noise,
                                    settings.seed, settings.batch_size, first_index)
    if method == "integrated-gradients":
        return integrated_gradients.attribute(plain, inputs, target, steps=settings.ig_steps,
                                              batch_size=settings.batch_size)
    if method == "guided-backprop":
        return guided_backprop.attribute(guided, inputs, target)
    if method == "gradcam":
        return gradcam.attribute(plain, inputs, target)
    return guided_gradcam.attribute(guided, plain, inputs, target)


def to_map(attribution: np.ndarray) -> np.ndarray:
    """[N, H, W]: a pixel attribution summed over colour channels; a 2-D map as it is."""
    return attribution.sum(axis=-1) if attribution.ndim == 4 else attribution


def maps(graphs: Graphs, images_of, n_images: int, targets, settings: Settings, desc=None,
         first: int = 0) -> np.ndarray:
    """Every method's map of every image.

    Args:
        graphs: the :class:`Graphs` of the methods.
        images_of: callable ``(start, stop) -> float32 [n, H, W, 3]`` in [0, 1].
        n_images: how many images.
        targets: int [n_images], the class of each image.
        settings: the methods' :class:`Settings`.
        desc: progress bar label (None: no bar).
        first: the index of image 0 in its dataset (seeds SmoothGrad's noise per image).

    Returns:
        float32 [methods, n_images, H, W].
    """
    targets = np.asarray(targets)
    out = None
    step = settings.batch_size
    with progress.bar(total=n_images, desc=desc, unit="img", disable=desc is None) as bar:
        for start in range(0, n_images, step):
            inputs = images_of(start, min(start + step, n_images))
            chosen = targets[start:start + len(inputs)]
            batch = np.stack([to_map(raw(graphs, m, inputs, chosen, settings, first + start)) for m in graphs.methods])
            if out is None:
                out = np.zeros((len(graphs.methods), n_images) + batch.shape[2:], np.float32)
            out[:, start:start + len(inputs)] = batch
            bar.update(len(inputs))
    return out
