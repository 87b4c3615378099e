"""Where a saliency map puts its mass: the share inside boxes of the input, for docs/guides/attribution.md.

For dog_cat.jpg squashed to 224 x 224 (``attribute --resize squash``) the boxes,
drawn by eye on that 224 x 224 image (rows, columns, end exclusive), are
``dog``: rows 32-197, columns 20-140 (head, body and paws) and ``cat``: rows
95-200, columns 141-201; ``left``/``right`` split the image at column 140,
where the dog's nose ends and the cat begins. The share of a box is
``sum(|map| in box) / sum(|map|)``; the box's share of the image's area is
printed beside it (a map spread evenly would put that much mass there).

Usage: ``python scripts/attribution_boxes.py OUT_DIR [OUT_DIR ...]`` (folders written by ``inception-tools attribute``).
"""

import json
import os
import sys

import numpy as np

BOXES = {"dog": (slice(32, 197), slice(20, 140)), "cat": (slice(95, 200), slice(141, 201)),
         "left": (slice(0, 224), slice(0, 140)), "right": (slice(0, 224), slice(140, 224))}


def shares(attribution_map):
    magnitude = np.abs(attribution_map)
    total = magnitude.sum()
    return {name: float(magnitude[box].sum() / total) if total > 0 else float("nan") for name, box in BOXES.items()}


def main(folders):
    area = shares(np.ones((224, 224)))
    print("area  " + "  ".join(f"{k} {v:.3f}" for k, v in area.items()))
    for folder in folders:
        summary = json.load(open(os.path.join(folder, "attribution.json")))
        for image in summary["images"]:
            for method in summary["methods"]:
                found = shares(np.load(os.path.join(folder, "maps", image["stem"], f"{method}.npy")))
                print(f"{image['class']:>20} {method:>22}  " + "  ".join(f"{k} {v:.3f}" for k, v in found.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
