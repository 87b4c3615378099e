"""Bring decoded images to the model's input size, in one of three named modes.

Every mode is split in two steps so that a dataset can keep its images small
in memory: :func:`prepare` runs once per image at load time and returns the
uint8 image that is stored; :func:`finish` runs on each slice the model asks
for and returns float32 pixels in [0, 1] (``x / 255``) at the model's H x W.

- ``"center-crop"`` (default for photographs): resize so that the shorter
  side is ``round(256 / 224 * max(H, W))`` (256 for a 224 x 224 model) with
  PIL's ``Image.BILINEAR`` filter, then cut the central H x W window (offsets
  ``(new - H) // 2``, ``(new - W) // 2``). PIL's bilinear filter is
  antialiased: when shrinking, its triangle kernel is widened by the scale
  factor, so every source pixel contributes; on uint8 it works in two
  passes (width, then height), rounding to uint8 after each. Stored at H x W.
- ``"64-upscale"`` (default for the downsampled-ImageNet ``.npz``, which is
  already 64 x 64): squash the whole image, aspect ratio not kept, to 64 x 64
  with PIL's ``Image.BOX`` filter (the mean of the source pixels each output
  pixel covers, as the downsampled ImageNet was made), store that, and on each
  request upscale to H x W with PIL's ``Image.BILINEAR`` on float32 channels
  (mode ``"F"``, so nothing is rounded back to uint8). For upscaling this is
  plain bilinear interpolation on half-pixel centres, edges clamped:
  output pixel i reads source coordinate ``(i + 0.5) * 64 / H - 0.5``.
- ``"native"`` (the embedded digits): no resampling; the image must already
  be H x W.

Pixel values stay in [0, 1] here: scaling them to the model's value range is
Lucid's ``create_input``'s job, done exactly once inside the model graph.

Extreme aspect ratios: ``"center-crop"`` scales the shorter side to 256, so an
8000 x 1 image would become 2,048,000 x 256 before the crop (1.5 GB). An image
longer than :data:`MAX_ASPECT` times its width (or the other way round) is
first cut to its central ``MAX_ASPECT``:1 part, which holds the whole central
crop; :func:`too_elongated` lets a loader warn about such images.
"""

import numpy as np
from PIL import Image

from inception_tools.errors import UserError

MODES = ("center-crop", "64-upscale", "native")

# Side of the intermediate image in "64-upscale" mode.
SMALL_SIDE = 64

# Longest side / shortest side kept by "center-crop" before resizing.
MAX_ASPECT = 8


def check_mode(mode):
    """Raise UserError unless ``mode`` is one of :data:`MODES`."""
    if mode not in MODES:
        raise UserError(f"unknown resize mode {mode!r}; choose one of {', '.join(MODES)}")


def stored_size(mode, image_shape):
    """(height, width) of the uint8 images kept in memory for ``mode``."""
    if mode == "64-upscale":
        return SMALL_SIDE, SMALL_SIDE
    return tuple(image_shape[:2])


def too_elongated(size):
    """Whether an image of ``size`` (w, h) is cut to its central MAX_ASPECT:1 part by ``center-crop``."""
    w, h = size
    return max(w, h) > MAX_ASPECT * min(w, h)


def limit_aspect(image):
    """The central part of ``image`` (PIL) whose long side is at most MAX_ASPECT times its short side."""
    w, h = image.size
    if not too_elongated((w, h)):
        return image
    if w > h:
        keep = MAX_ASPECT * h
        return image.crop(((w - keep) // 2, 0, (w - keep) // 2 + keep, h))
    keep = MAX_ASPECT * w
    return image.crop((0, (h - keep) // 2, w, (h - keep) // 2 + keep))


def center_crop(image, height, width):
    """Bilinear-resize ``image`` (PIL) so it covers 256/224 of the crop, then centre-crop."""
    shorter = round(max(height, width) * 256 / 224)
    image = limit_aspect(image)
    w, h = image.size
    scale = shorter / min(w, h)
    new_w, new_h = max(width, round(w * scale)), max(height, round(h * scale))
    resized = image.resize((new_w, new_h), Image.BILINEAR)
    left, top = (new_w - width) // 2, (new_h - height) // 2
    return resized.crop((left, top, left + width, top + height))


def prepare(image, mode, image_shape, name="image"):
    """The uint8 [h, w, 3] array stored for the RGB PIL ``image`` (see module docstring)."""
    height, width = image_shape[:2]
    if mode == "center-crop":
        image = center_crop(image, height, width)
    elif mode == "64-upscale":
        if image.size != (SMALL_SIDE, SMALL_SIDE):
            image = image.resize((SMALL_SIDE, SMALL_SIDE), Image.BOX)
    elif image.size != (width, height):
        raise UserError(
            f"{name} is {image.size[0]}x{image.size[1]} but resize 'native' needs the model's "
            f"{width}x{height}; use resize 'center-crop' or '64-upscale'"
        )
    return np.asarray(image, dtype=np.uint8)


def prepare_array(images, mode, image_shape):
    """:func:`prepare` for a uint8 [N, h, w, 3] array; returned as is when nothing changes."""
    if images.shape[1:3] == stored_size(mode, image_shape) and mode != "center-crop":
        return images
    prepared = np.empty((len(images), *stored_size(mode, image_shape), 3), np.uint8)
    for i, pixels in enumerate(images):
        prepared[i] = prepare(Image.fromarray(pixels), mode, image_shape, name=f"image {i}")
    return prepared


def upscale(pixels, height, width):
    """Bilinear-resize one float32 [h, w, 3] image to [height, width, 3], channel by channel."""
    channels = [
        np.asarray(Image.fromarray(np.ascontiguousarray(pixels[..., c])).resize((width, height), Image.BILINEAR))
        for c in range(pixels.shape[-1])
    ]
    return np.stack(channels, axis=-1)


def finish(stored, image_shape):
    """float32 [n, H, W, 3] in [0, 1] from the stored uint8 [n, h, w, 3] slice."""
    pixels = stored.astype(np.float32) / 255.0
    height, width = image_shape[:2]
    if pixels.shape[1:3] == (height, width):
        return pixels
    upscaled = np.empty((len(pixels), height, width, 3), np.float32)
    for i, image in enumerate(pixels):
        upscaled[i] = upscale(image, height, width)
    # Weights sum to 1, but float rounding may overshoot 1.0 by an ulp.
    return np.clip(upscaled, 0.0, 1.0, out=upscaled)
