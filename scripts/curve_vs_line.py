"""Which curve-selective channels prefer curves to lines? Two finished ``tuning`` folders of one layer.

Reads ``channels.csv`` and ``tuning.json`` of a ``--stimulus curve --search`` folder and a
``--stimulus line`` folder (same model, layer and data) and prints, for the curve-selective channels,
how many respond more to their best curve than to their best line or edge (peak over peak), and how
those channels' preferred curve orientations cover the circle.

    python scripts/curve_vs_line.py CURVE_FOLDER LINE_FOLDER [--ratio 1.0]
"""

import argparse
import csv
import json
import os

import numpy as np

from inception_tools.tuning.stats import coverage


def read(folder):
    with open(os.path.join(folder, "channels.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(folder, "tuning.json"), encoding="utf-8") as f:
        meta = json.load(f)
    return {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}, meta


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curve")
    parser.add_argument("line")
    parser.add_argument("--ratio", type=float, default=1.0, help="curve peak / line peak above this (default 1)")
    args = parser.parse_args()
    curve, curve_meta = read(args.curve)
    line, line_meta = read(args.line)
    if (curve_meta["model"], curve_meta["layer"]) != (line_meta["model"], line_meta["layer"]):
        raise SystemExit("the two folders are of different models or layers")
    selective = np.array(curve_meta["search"]["selective"], np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = curve["peak"][selective] / line["peak"][selective]
    prefer = selective[ratio > args.ratio]
    print(f"{len(selective)} curve-selective channels ({curve_meta['search']['criterion']})")
    print(f"{len(prefer)} of them respond more to their best curve than to their best line/edge "
          f"(peak ratio > {args.ratio}); median ratio {np.median(ratio):.2f}")
    found = coverage(curve["preferred"][prefer], curve_meta["period"])
    print(f"their preferred curve orientations: {found['counts']} per 45-degree arc, "
          f"{found['covered']} of {found['bins']} arcs, largest gap {found['largest_gap']:.0f} degrees")
    order = prefer[np.argsort(-ratio[ratio > args.ratio])]
    print("by ratio: " + ", ".join(f"{c} ({curve['preferred'][c]:.0f} deg, x{curve['peak'][c] / line['peak'][c]:.2f})"
                                   for c in order))


if __name__ == "__main__":
    main()
