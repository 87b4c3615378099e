"""Pictures of expanded weights: one kernel as a red/blue tile, a layer pair's matrix as a heatmap.

Colours: red excitatory (positive weight), blue inhibitory (negative), white
zero, on a symmetric scale shared by the kernels of one page section, so tiles
compare.
"""

import numpy as np
from matplotlib import colormaps
from PIL import Image

from inception_tools.plots import new_axes

CMAP = "RdBu_r"


def kernel_pixels(kernel, scale, cell=None):
    """uint8 RGB [kh*cell, kw*cell, 3] of a 2-D kernel on the colour scale [-scale, scale]."""
    kernel = np.asarray(kernel, np.float64)
    cell = cell or max(1, 96 // kernel.shape[0])
    values = 0.5 + 0.5 * kernel / scale if scale > 0 else np.full(kernel.shape, 0.5)
    rgb = colormaps[CMAP](np.clip(values, 0, 1))[..., :3]
    return (np.kron(rgb, np.ones((cell, cell, 1))) * 255).round().astype(np.uint8)


def save_kernel(kernel, scale, path):
    """Write :func:`kernel_pixels` as a PNG at ``path`` (a temporary path from the folder's writer)."""
    Image.fromarray(kernel_pixels(kernel, scale)).save(path, format="PNG")


def matrix_figure(matrix, source, target):
    """Heatmap of ``matrix`` [source channels, target channels] (summed expanded kernels)."""
    scale = float(np.abs(matrix).max()) or 1.0
    figure, axes = new_axes(9, 9 * matrix.shape[0] / max(matrix.shape[1], 1) + 1)
    image = axes.imshow(matrix, cmap=CMAP, vmin=-scale, vmax=scale, interpolation="nearest", aspect="auto")
    axes.set_xlabel(f"{target} channel")
    axes.set_ylabel(f"{source} channel")
    axes.set_title(f"summed expanded weights {source} -> {target} (red excitatory, blue inhibitory)")
    figure.colorbar(image, ax=axes, fraction=0.03)
    return figure
