"""A Broden-layout concept folder: images with per-pixel and whole-image concept labels.

The layout (Bau et al.'s ``broden1_224``, which cannot be downloaded here):

- ``index.csv``: one row per image; column ``image`` (path under ``images/``),
  optional ``split``, ``ih``, ``iw``, ``sh``, ``sw`` (image and mask sizes),
  and one column per concept category (``color``, ``object``, ``part``,
  ``material``, ``scene``, ``texture``...). A cell holds ``;``-separated
  entries: PNG mask paths under ``images/`` for pixel categories, label
  numbers for whole-image categories (scene, texture), or nothing.
- a mask PNG encodes each pixel's label number as ``R + 256 * G`` (0: no label).
- ``label.csv``: ``number,name,category,...``; ``category`` like
  ``object(17);part(2)`` names the categories a label occurs in with counts;
  its primary category is the most frequent one (as in NetDissect).
- ``c_<category>.csv`` and ``category.csv`` may be present; they are not needed,
  since masks hold the global label numbers.

Images are resized whole (no crop) to the model's input size, so the masks
still cover them; masks are resized to the compared resolution by nearest
neighbour, whole-image labels cover every pixel.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re

import numpy as np
from PIL import Image

from inception_tools.errors import UserError
from inception_tools.imagefiles import open_rgb

FIXED_COLUMNS = ("image", "split", "ih", "iw", "sh", "sw")


def _read_csv(path, required, folder):
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            columns = reader.fieldnames or []
    except FileNotFoundError:
        raise UserError(f"{folder} is not a Broden-layout concept folder: {os.path.basename(path)} is missing") \
            from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise UserError(f"cannot read {path}: {e}") from None
    missing = [c for c in required if c not in columns]
    if missing:
        raise UserError(f"{folder} is not a Broden-layout concept folder: {os.path.basename(path)} lacks "
                        f"column(s) {', '.join(missing)}")
    return rows, columns


def primary_category(text):
    """``object(17);part(2)`` -> ``object``: the category a label occurs in most often."""
    found = re.findall(r"([^;()]+)\((\d+)\)", text or "")
    if not found:
        return (text or "").split(";")[0].strip() or "-"
    return max(found, key=lambda item: int(item[1]))[0].strip()


def decode_mask(path):
    """The label numbers (int64 [h, w], ``R + 256 * G``) of a Broden mask PNG."""
    try:
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"), np.int64)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read the mask {path}: {e}") from None
    return rgb[..., 0] + 256 * rgb[..., 1]


def nearest(labels, size):
    """[h, w] ``labels`` resized to ``size`` x ``size`` by nearest neighbour (pixel centres)."""
    rows = ((np.arange(size) + 0.5) * labels.shape[0] / size).astype(np.int64)
    cols = ((np.arange(size) + 0.5) * labels.shape[1] / size).astype(np.int64)
    return labels[rows][:, cols]


class BrodenConcepts:
    """The images and concept masks of a Broden-layout folder.

    Args:
        folder: the folder (with ``index.csv``, ``label.csv``, ``images/``).
        image_shape: the model's input (H, W, 3); images are resized to it.
        limit: keep only the first ``limit`` images of ``index.csv``.

    Raises:
        UserError: the folder is not in Broden layout (a file or column missing, an image or mask
            listed but absent, an entry that is neither a mask nor a label number).
    """

    kind = "broden"

    def __init__(self, folder, image_shape, limit=None):
        self.folder = os.fspath(folder)
        if not os.path.isdir(self.folder):
            raise UserError(f"concept folder {self.folder} does not exist")
        rows, columns = _read_csv(os.path.join(self.folder, "index.csv"), ("image",), self.folder)
        labels, _ = _read_csv(os.path.join(self.folder, "label.csv"), ("number", "name", "category"), self.folder)
        self.category_columns = [c for c in columns if c not in FIXED_COLUMNS]
        if not self.category_columns:
            raise UserError(f"{self.folder} is not a Broden-layout concept folder: index.csv has no category "
                            "columns (color, object, part, material, scene, texture...)")
        if not os.path.isdir(os.path.join(self.folder, "images")):
            raise UserError(f"{self.folder} is not a Broden-layout concept folder: images/ is missing")
        self.rows = rows[:limit] if limit else rows
        if not self.rows:
            raise UserError(f"no images in {self.folder}/index.csv")
        self.image_shape = tuple(image_shape)
        self._labels(labels)
        self._check_entries()
        self.ids = [row["image"] for row in self.rows]
        self.files = tuple(os.path.join(self.folder, name) for name in ("index.csv", "label.csv"))

    def _labels(self, labels):
        numbers, names, categories = [], [], []
        for row in labels:
            try:
                number = int(row["number"])
            except ValueError:
                raise UserError(f"{self.folder}/label.csv: label number {row['number']!r} is not an integer") \
                    from None
            if number >= 1:
                numbers.append(number)
                names.append(row["name"])
                categories.append(primary_category(row["category"]))
        if not numbers:
            raise UserError(f"{self.folder}/label.csv lists no labels")
        self.names, self.categories = names, categories
        self.lookup = np.full(max(numbers) + 1, -1, np.int64)  # label number -> concept index
        self.lookup[numbers] = np.arange(len(numbers))

    def _check_entries(self):
        for row in self.rows:
            paths = [row["image"]] + [e for c in self.category_columns for e in self._entries(row, c)
                                      if not e.isdigit()]
            for path in paths:
                if not path.lower().endswith(".png") and path != row["image"]:
                    raise UserError(f"{self.folder}/index.csv: {path!r} is neither a mask PNG nor a label number")
                if not os.path.isfile(os.path.join(self.folder, "images", path)):
                    raise UserError(f"{self.folder} is not a Broden-layout concept folder: images/{path} "
                                    "listed in index.csv is missing")

    @staticmethod
    def _entries(row, column):
        return [e.strip() for e in (row.get(column) or "").split(";") if e.strip()]

    def __len__(self):
        return len(self.rows)

    def identity(self) -> dict:
        """What identifies these concepts in a settings manifest: the digest of index.csv and label.csv."""
        digest = hashlib.sha256()
        for name in ("index.csv", "label.csv"):
            with open(os.path.join(self.folder, name), "rb") as f:
                digest.update(f.read())
        return {"concepts": self.kind, "n_images": len(self), "index": digest.hexdigest()}

    def images(self, start, stop):
        """float32 [n, H, W, 3] in [0, 1]: each image resized whole to the model's input size."""
        height, width = self.image_shape[:2]
        out = [np.asarray(open_rgb(os.path.join(self.folder, "images", row["image"])).resize(
            (width, height), Image.BILINEAR), np.float32) / 255.0 for row in self.rows[start:stop]]
        return np.stack(out)

    def masks(self, start, stop, small):
        """bool [n, R, R, C] concept masks at the resolution of ``small`` ([n, R, R, 3])."""
        size = small.shape[1]
        out = np.zeros((len(small), size, size, len(self.names)), bool)
        for i, row in enumerate(self.rows[start:stop]):
            for column in self.category_columns:
                for entry in self._entries(row, column):
                    if entry.isdigit():
                        out[i, :, :, self._concept(int(entry), entry)] = True
                        continue
                    labels = nearest(decode_mask(os.path.join(self.folder, "images", entry)), size)
                    for number in np.unique(labels[labels > 0]):
                        out[i, :, :, self._concept(int(number), entry)] |= labels == number
        return out

    def _concept(self, number, where):
        if number >= len(self.lookup) or self.lookup[number] < 0:
            raise UserError(f"{self.folder}: label {number} in {where} is not in label.csv")
        return int(self.lookup[number])
