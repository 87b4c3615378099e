"""Each channel's top images and the masked examples shown for its detectors.

A channel's top images are those with the largest spatial maximum of its
activation (NetDissect's ranking), kept by a streaming top-k during the
threshold pass. A masked example is the image at the compared resolution with
the channel's mask ``M_k`` kept and everything else dimmed, as in Bau et
al.'s figures.
"""

from __future__ import annotations

import numpy as np

DIM = 0.2  # brightness left outside the mask


class TopImages:
    """The ``k`` images with the largest maximum of each channel seen so far (ties: the earlier image).

    Args:
        channels: K.
        k: images kept per channel.
    """

    def __init__(self, channels: int, k: int):
        self.values = np.zeros((channels, 0), np.float32)
        self.rows = np.zeros((channels, 0), np.int64)
        self.k = k

    def update(self, maxima, start) -> None:
        """Merge a batch: ``maxima`` [n, K] of images ``start .. start + n - 1``."""
        values = np.concatenate([self.values, np.asarray(maxima, np.float32).T], axis=1)
        rows = np.concatenate([self.rows, np.broadcast_to(np.arange(start, start + len(maxima)),
                                                          (len(values), len(maxima)))], axis=1)
        order = np.argsort(-values, axis=1, kind="stable")[:, : self.k]
        self.values = np.take_along_axis(values, order, 1)
        self.rows = np.take_along_axis(rows, order, 1)

    def state(self) -> dict:
        return {"top_values": self.values, "top_rows": self.rows}

    @classmethod
    def from_state(cls, state: dict, k: int) -> "TopImages":
        made = cls(len(state["top_rows"]), k)
        made.values, made.rows = np.array(state["top_values"]), np.array(state["top_rows"])
        return made


def masked_examples(reader, concepts, channels, rows, thresholds, batch_size):
    """uint8 [len(channels), k, R, R, 3]: each channel's top images with its mask kept, the rest dimmed.

    Args:
        reader: a :class:`~inception_tools.dissect.masks.LayerMasks`.
        concepts: the concept source (its ``images(start, stop)``).
        channels: the channels to show.
        rows: [len(channels), k] image indices.
        thresholds: [K] thresholds of all channels.
        batch_size: images per forward pass.
    """
    rows = np.asarray(rows, np.int64)
    if not len(channels):
        return np.zeros((0, rows.shape[1] if rows.ndim == 2 else 0, 1, 1, 3), np.uint8)
    wanted = np.unique(rows)
    small, masks = [], []
    for start in range(0, len(wanted), batch_size):
        chunk = wanted[start:start + batch_size]
        images = np.concatenate([concepts.images(int(r), int(r) + 1) for r in chunk])
        small.append(reader.small_images(images))
        masks.append(reader.masks(images, channels, np.asarray(thresholds)[channels]))
    small, masks = np.concatenate(small), np.concatenate(masks)
    where = np.searchsorted(wanted, rows)                             # [D, k] -> index into wanted
    chosen = masks[where, :, :, np.arange(len(channels))[:, None]]   # [D, k, R, R]
    shown = small[where] * np.where(chosen[..., None], 1.0, DIM)
    return (np.clip(shown, 0, 1) * 255).round().astype(np.uint8)
