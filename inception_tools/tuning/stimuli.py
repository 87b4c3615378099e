"""Seeded parametric stimuli at a model's input size: curves, lines/edges, gratings, colour patches.

Every family has a circular *primary* parameter (the tuning curve's x axis,
with its period) and a *secondary* one (the curve is read at its best value),
and is drawn ``replicates`` times: replicate 0 exactly centred (phase 0),
replicates 1.. shifted by a seeded random offset of up to ``jitter`` pixels in
x and y (gratings: a seeded random phase instead), so responses come with a
bootstrap over the jitter.

Geometry: pixel coordinates ``x`` right, ``y`` up, origin at the stimulus
centre (the image centre ``((W-1)/2, (H-1)/2)`` unless a centre is given: the
tuning stage centres stimuli on the receptive field of the unit it reads);
angles counter-clockwise from +x. Shapes are drawn by
distance with a one-pixel antialiased edge, so rotating a parameter by 90
degrees rotates the centred image by 90 degrees (``np.rot90``), exactly.

- ``curve``: a black arc on white. Its circle (radius ``r``) has its centre at
  ``r * (cos o, sin o)`` from the image centre, so the arc passes through the
  centre and opens towards orientation ``o``; arc length ``0.4 W``, at most a
  half circle; width ``W/75`` (at least one pixel). Primary: orientation 0..345 step 15 (period
  360); secondary: radius 0.1, 0.2, 0.3 of ``W``.
- ``line``: through the centre, length ``0.6 W``, at orientation ``o`` 0..165
  step 15 (period 180); secondary: style ``thin`` (``W/75``), ``thick`` (3x),
  ``edge`` (the half plane on the side ``o + 90`` dark; one polarity).
- ``grating``: ``0.5 + 0.5 cos(2 pi f (x cos o + y sin o) / W + phase)`` over the
  image; orientation 0..165 step 15 (period 180); secondary: frequency 4, 8,
  16, 32 cycles per image width.
- ``color``: a disk of radius ``W/4`` on mid-grey, hue 0..345 step 15 (period
  360, HSV value 1); secondary: saturation 0.5, 1.
"""

import colorsys
import dataclasses

import numpy as np

from inception_tools.errors import UserError


@dataclasses.dataclass(frozen=True)
class Family:
    """One stimulus family: its parameter grids and how to draw one image."""

    name: str
    primary: str
    period: float
    primary_values: tuple
    secondary: str
    secondary_values: tuple
    draw: object  # draw(x, y, width, primary, secondary, phase) -> float [H, W, 3] in [0, 1]


def _ink(distance, width):
    """1 on the stroke, 0 off it, a one-pixel antialiased edge."""
    return np.clip(width / 2 + 0.5 - distance, 0.0, 1.0)


def _width(size):
    """Stroke width: ``W/75`` pixels (3 at 224), at least 1."""
    return max(1.0, size / 75)


def _gray(value):
    return np.repeat(value[..., None], 3, axis=-1)


def _segment_distance(x, y, angle, half_length):
    """Distance to the segment through the origin at ``angle`` (degrees) of half length ``half_length``."""
    a = np.deg2rad(angle)
    along = np.clip(x * np.cos(a) + y * np.sin(a), -half_length, half_length)
    return np.hypot(x - along * np.cos(a), y - along * np.sin(a))


def _curve(x, y, size, orientation, radius, phase):
    r = radius * size
    a = np.deg2rad(orientation)
    cx, cy = r * np.cos(a), r * np.sin(a)
    half_span = min(np.pi / 2, 0.2 * size / r)
    # angle of each pixel around the circle's centre, measured from the arc's midpoint (the image centre)
    offset = np.angle(np.exp(1j * (np.arctan2(y - cy, x - cx) - (a + np.pi))))
    on_arc = np.abs(np.hypot(x - cx, y - cy) - r)
    ends = [(cx + r * np.cos(a + np.pi + s), cy + r * np.sin(a + np.pi + s)) for s in (-half_span, half_span)]
    to_ends = np.minimum(*[np.hypot(x - ex, y - ey) for ex, ey in ends])
    distance = np.where(np.abs(offset) <= half_span, on_arc, to_ends)
    return _gray(1.0 - _ink(distance, _width(size)))


def _line(x, y, size, orientation, style, phase):
    if style == "edge":
        a = np.deg2rad(orientation + 90)
        signed = x * np.cos(a) + y * np.sin(a)  # > 0 on the dark side
        return _gray(np.clip(0.5 - signed, 0.0, 1.0))
    width = _width(size) * (3 if style == "thick" else 1)
    return _gray(1.0 - _ink(_segment_distance(x, y, orientation, 0.3 * size), width))


def _grating(x, y, size, orientation, frequency, phase):
    a = np.deg2rad(orientation)
    return _gray(0.5 + 0.5 * np.cos(2 * np.pi * frequency * (x * np.cos(a) + y * np.sin(a)) / size + phase))


def _color(x, y, size, hue, saturation, phase):
    rgb = np.array(colorsys.hsv_to_rgb(hue / 360.0, saturation, 1.0))
    inside = np.clip(size / 4 + 0.5 - np.hypot(x, y), 0.0, 1.0)[..., None]
    return inside * rgb + (1 - inside) * 0.5


FAMILIES = {
    "curve": Family("curve", "orientation", 360.0, tuple(range(0, 360, 15)), "radius", (0.1, 0.2, 0.3), _curve),
    "line": Family("line", "orientation", 180.0, tuple(range(0, 180, 15)), "style", ("thin", "thick", "edge"),
                   _line),
    "grating": Family("grating", "orientation", 180.0, tuple(range(0, 180, 15)), "frequency", (4, 8, 16, 32),
                      _grating),
    "color": Family("color", "hue", 360.0, tuple(range(0, 360, 15)), "saturation", (0.5, 1.0), _color),
}


def family(name):
    """The :class:`Family` called ``name``, or UserError naming the known ones."""
    if name not in FAMILIES:
        raise UserError(f"unknown stimulus {name!r}; stimuli: {', '.join(FAMILIES)}")
    return FAMILIES[name]


def jitters(replicates, jitter, seed):
    """float [replicates, 3]: (dx, dy, phase) per replicate; replicate 0 is (0, 0, 0)."""
    rng = np.random.default_rng(seed)
    draws = np.column_stack([rng.uniform(-jitter, jitter, (replicates, 2)), rng.uniform(0, 2 * np.pi, replicates)])
    draws[0] = 0
    return draws


def draw(fam, image_shape, primary, secondary, shift=(0.0, 0.0, 0.0), centre=None):
    """One stimulus: float32 [H, W, 3] in [0, 1] at ``image_shape``, shifted by ``shift`` = (dx, dy, phase).

    ``centre`` = (row, column) of the pixel the stimulus is centred on (default the image centre;
    gratings take it as the point of phase 0). Gratings take the phase and ignore the offset; the other
    families take the offset and ignore the phase.
    """
    height, width = image_shape[:2]
    row, col = ((height - 1) / 2, (width - 1) / 2) if centre is None else centre
    dx, dy, phase = shift
    if fam.name == "grating":
        dx = dy = 0.0
    else:
        phase = 0.0
    cols, rows = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    x = cols - col - dx
    y = row - rows - dy
    return np.asarray(fam.draw(x, y, width, primary, secondary, phase), np.float32)


def grid(fam):
    """Every (primary index, secondary index) pair, primary-major: the order of :func:`stimuli`."""
    return [(i, j) for i in range(len(fam.primary_values)) for j in range(len(fam.secondary_values))]


def stimuli(fam, image_shape, replicates, jitter, seed, start=0, stop=None, centre=None):
    """Images ``start:stop`` of the family's full set, float32 [n, H, W, 3], centred on ``centre``
    (see :func:`draw`).

    The set is ordered (primary, secondary, replicate), replicate fastest; it holds
    ``len(primary) * len(secondary) * replicates`` images.
    """
    shifts = jitters(replicates, jitter, seed)
    cells = [(i, j, r) for i, j in grid(fam) for r in range(replicates)]
    stop = len(cells) if stop is None else stop
    return np.stack([draw(fam, image_shape, fam.primary_values[i], fam.secondary_values[j], shifts[r], centre)
                     for i, j, r in cells[start:stop]])
