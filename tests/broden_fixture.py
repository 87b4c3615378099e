"""A small folder in Broden's layout, made by the tests (Broden itself cannot be downloaded here)."""

import csv

import numpy as np
from PIL import Image

LABELS = [  # number, name, category (as label.csv writes it)
    (1, "red-c", "color(4)"),
    (2, "blue-c", "color(4)"),
    (3, "square", "object(4);part(1)"),
    (4, "disk", "part(3)"),
    (5, "lab-s", "scene(2)"),
]


def encode(labels):
    """int [h, w] label numbers -> RGB uint8 with R + 256 * G = the number."""
    rgb = np.zeros(labels.shape + (3,), np.uint8)
    rgb[..., 0] = labels % 256
    rgb[..., 1] = labels // 256
    return rgb


def write_broden(folder, n=4, size=32, mask_size=16):
    """Write ``n`` images with a red square (color 1, object 3) on a blue ground (color 2); return the truth.

    Returns:
        dict: ``squares`` (per image, the (top, left, side) of the square in mask pixels) and the folder.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images" / "toy").mkdir(parents=True)
    with open(folder / "label.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["number", "name", "category", "frequency", "coverage", "syns"])
        writer.writerow([0, "-", "-", 0, 0, ""])
        for number, name, category in LABELS:
            writer.writerow([number, name, category, 1, 0.1, ""])
    (folder / "c_color.csv").write_text("code,number,name,frequency,coverage\n1,1,red-c,4,0.1\n2,2,blue-c,4,0.9\n")
    rows, squares = [], []
    scale = size // mask_size
    for i in range(n):
        top, left, side = i % 3 + 1, (2 * i) % 7 + 1, 6 + i % 3
        squares.append((top, left, side))
        color = np.full((mask_size, mask_size), 2, np.int64)
        color[top:top + side, left:left + side] = 1
        obj = np.zeros((mask_size, mask_size), np.int64)
        obj[top:top + side, left:left + side] = 3
        part = np.zeros((mask_size, mask_size), np.int64)
        part[:2, :2] = 4
        pixels = np.where((color == 1)[..., None], [220, 20, 30], [30, 70, 200]).astype(np.uint8)
        image = Image.fromarray(np.kron(pixels, np.ones((scale, scale, 1), np.uint8)))
        stem = f"toy/img{i:02d}"
        image.save(folder / "images" / f"{stem}.jpg", quality=95)
        Image.fromarray(encode(color)).save(folder / "images" / f"{stem}_color.png")
        Image.fromarray(encode(obj)).save(folder / "images" / f"{stem}_object.png")
        Image.fromarray(encode(part)).save(folder / "images" / f"{stem}_part.png")
        rows.append({"image": f"{stem}.jpg", "split": "train", "ih": size, "iw": size, "sh": mask_size,
                     "sw": mask_size, "color": f"{stem}_color.png", "object": f"{stem}_object.png",
                     "part": f"{stem}_part.png" if i % 2 == 0 else "", "scene": "5" if i < 2 else ""})
    with open(folder / "index.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return {"folder": folder, "squares": squares, "mask_size": mask_size}
