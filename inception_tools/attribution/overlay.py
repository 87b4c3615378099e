"""A map shown over its image: ``|map|`` scaled by its 99th percentile, coloured, blended with the photo.

Scaling by a high percentile instead of the maximum keeps a few extreme
pixels (gradients have them) from washing the rest of the map out; values
above it saturate. The blend is ``(1 - w) * image / 2 + w * colour`` with ``w`` the
scaled value, so pixels with no attribution show the photo at half brightness.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps

PERCENTILE = 99.0


def scaled(attribution_map: np.ndarray) -> np.ndarray:
    """``|map|`` divided by its 99th percentile, clipped to [0, 1] (all zeros for an all-zero map)."""
    magnitude = np.abs(np.asarray(attribution_map, np.float64))
    top = np.percentile(magnitude, PERCENTILE)
    if top <= 0:
        top = magnitude.max()
    return np.clip(magnitude / top, 0, 1) if top > 0 else np.zeros_like(magnitude)


def heat(attribution_map: np.ndarray, cmap: str = "inferno") -> np.ndarray:
    """float [H, W, 3] in [0, 1]: the scaled map in colour."""
    return colormaps[cmap](scaled(attribution_map))[..., :3]


def blend(image: np.ndarray, attribution_map: np.ndarray) -> np.ndarray:
    """float [H, W, 3] in [0, 1]: the coloured map over the dimmed image."""
    weight = scaled(attribution_map)[..., None]
    return np.clip((1 - weight) * 0.5 * image + weight * heat(attribution_map), 0, 1)


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    return (np.clip(pixels, 0, 1) * 255).round().astype(np.uint8)
