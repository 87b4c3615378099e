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
    """Heatmap of ``matrix`` [source channels, target channels] (summed expanded kernels), the colours
    clipped at the 99.5th percentile of |matrix| so a few large weights do not wash out the rest."""
    scale = float(np.percentile(np.abs(matrix), 99.5)) or float(np.abs(matrix).max()) or 1.0
    figure, axes = new_axes(9, 9 * matrix.shape[0] / max(matrix.shape[1], 1) + 1)
    image = axes.imshow(matrix, cmap=CMAP, vmin=-scale, vmax=scale, interpolation="nearest", aspect="auto")
    axes.set_xlabel(f"{target} channel")
    axes.set_ylabel(f"{source} channel")
    axes.set_title(f"summed expanded weights {source} -> {target} (red excitatory, blue inhibitory; "
                   "colours clipped at the 99.5th percentile of |w|)", fontsize=9)
    figure.colorbar(image, ax=axes, fraction=0.03)
    return figure


def overview_figure(result, which="inputs"):
    """The channel's strongest inputs (or outputs): renders above their kernels, excitatory rows then
    inhibitory rows, one colour scale for all kernels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    kernels = result.kernels if which == "inputs" else result.out_kernels
    top = result.top_inputs if which == "inputs" else result.top_outputs
    layer = result.inputs_from if which == "inputs" else result.next_layer
    columns = max(1, max(len(c) for c in top.values()))
    chosen = [int(c) for cs in top.values() for c in cs]
    scale = float(max((np.abs(kernels[:, :, c]).max() for c in chosen), default=0.0))
    figure = Figure(figsize=(1.3 * columns, 1.45 * 4 + 0.6), dpi=100)
    FigureCanvasAgg(figure)
    grid = figure.subplots(4, columns, squeeze=False)
    for row, sign in ((0, "positive"), (2, "negative")):
        for k in range(columns):
            for axes in (grid[row, k], grid[row + 1, k]):
                axes.set_axis_off()
            if k >= len(top[sign]):
                continue
            c = int(top[sign][k])
            render = result.renders.get(f"{layer}/{c}")
            if render is not None:
                grid[row, k].imshow(render)
            grid[row, k].set_title(f"{layer}:{c}\n{kernels[:, :, c].sum():+.3g}", fontsize=7)
            grid[row + 1, k].imshow(kernel_pixels(kernels[:, :, c], scale, cell=1), interpolation="nearest")
    arrow = f"{layer} -> {result.layer}:{result.channel}" if which == "inputs" else \
        f"{result.layer}:{result.channel} -> {layer}"
    figure.suptitle(f"{result.model} {arrow}: strongest excitatory (rows 1-2) and inhibitory (rows 3-4) "
                    f"by summed expanded kernel; kernels red +, blue -, one scale", fontsize=8)
    return figure
