"""``atlas.png``: each layer's renders placed at their cells, the layers side by side.

A layer's canvas is ``grid x grid`` squares of the render size on white;
the render of cell (row, column) fills its square, or, sized by density, a
centred square of side ``max(0.25, sqrt(count / largest count))`` of it, so
the area shown grows with the number of vectors averaged (the paper's
density sizing). Layers follow each other left to right, each under its name.
"""

import numpy as np
from PIL import Image, ImageDraw

GAP = 16
TITLE = 18
SMALLEST = 0.25


def icon_side(count, largest, side, by_density):
    """The side in pixels of a cell's render (see the module docstring)."""
    if not by_density:
        return side
    return max(1, int(round(side * max(SMALLEST, np.sqrt(count / largest)))))


def layer_canvas(renders, cells, counts, grid, by_density=False):
    """uint8 [grid * S, grid * S, 3]: ``renders`` [m, S, S, 3] in [0, 1] at ``cells`` [m, 2] (row, column)."""
    side = renders.shape[1] if len(renders) else 1
    canvas = np.full((grid * side, grid * side, 3), 255, np.uint8)
    largest = counts.max() if len(counts) else 1
    for image, (row, col), count in zip(renders, cells, counts):
        pixels = Image.fromarray((np.clip(image, 0, 1) * 255).round().astype(np.uint8))
        shown = icon_side(count, largest, side, by_density)
        if shown != side:
            pixels = pixels.resize((shown, shown), Image.BILINEAR)
        top, left = row * side + (side - shown) // 2, col * side + (side - shown) // 2
        canvas[top:top + shown, left:left + shown] = np.asarray(pixels)
    return canvas


def side_by_side(canvases, titles):
    """One PIL image: the ``canvases`` left to right with a gap, each under its title."""
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    widths = [max(c.shape[1], int(draw.textlength(t)) + 4) for c, t in zip(canvases, titles)]
    height = max(c.shape[0] for c in canvases) + TITLE
    sheet = Image.new("RGB", (sum(widths) + GAP * (len(canvases) - 1), height), "white")
    draw = ImageDraw.Draw(sheet)
    left = 0
    for canvas, title, width in zip(canvases, titles, widths):
        draw.text((left + 2, 2), title, fill="black")
        sheet.paste(Image.fromarray(canvas), (left, TITLE))
        left += width + GAP
    return sheet
