"""Helpers for the gallery and survey tests: a small fake study and a headless Chromium.

``write_fake_study`` writes the files of docs/CONTRACTS.md "Outputs of one study"
with tiny images whose colours encode the channel. ``chromium()`` launches the
Debian Chromium through Playwright (never Playwright's own browser download);
``chromium_missing_reason()`` says why browser tests must skip, if they must.
"""

import contextlib
import importlib.util
import csv
import json
import os
import random

from PIL import Image

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]
MODEL, LAYER = "InceptionV1", "mixed5a"
TILE = 16


def fake_importance(channel):
    """A made-up importance row; importances differ and do not follow channel order."""
    newly_wrong = (channel * 7) % 13 + 3
    newly_right = channel % 3
    return {
        "model": MODEL, "layer": LAYER, "feature_ind": channel,
        "importance": newly_wrong - newly_right,
        "newly_wrong": newly_wrong, "newly_right": newly_right,
        "mcnemar_p": round(0.5 / (1 + (channel * 5) % 11), 6),
        "mean_delta_logprob": round(-0.001 * (channel % 17) - 0.0001 * channel, 6),
        "mean_kl": round(0.001 * ((channel * 5) % 12) + 0.0001, 6),
        "mean_abs_prob_change": round(0.01 * ((channel * 7) % 12) + 0.001, 6),
    }


# A reliability report (importance.json) in which the study's importance ranks unreliably.
FAKE_RELIABILITY = {"splits": 20, "measures": {
    name: {"rho": rho, "rho_sd": 0.05, "spearman_brown": 2 * rho / (1 + rho), "images_for_0.9": images,
           "n_images": 100, "overlap": {"10": 0.5}}
    for name, rho, images in (("importance", 0.1, 4050), ("delta-logprob", 0.3, 1050), ("kl", 0.8, 113),
                              ("l1", 0.7, 193))
}}


def _strip(channel, tiles, shade):
    image = Image.new("RGB", (tiles * TILE, TILE))
    for i in range(tiles):
        colour = ((channel * 37) % 256, (i * 60 + shade) % 256, (channel * 11) % 256)
        image.paste(colour, (i * TILE, 0, (i + 1) * TILE, TILE))
    return image


def write_fake_study(root, n_channels=12, imaged=None, surveyed=()):
    """A study folder at ``root``: every channel in importance.csv, images for ``imaged``
    (default: all), groups.csv with ``surveyed`` in a shuffled blind order. Returns ``root``."""
    root = os.fspath(root)
    imaged = range(n_channels) if imaged is None else imaged
    rows = [fake_importance(c) for c in range(n_channels)]
    _write_csv(os.path.join(root, "importance.csv"), rows)
    with open(os.path.join(root, "importance.json"), "w") as f:
        json.dump({"dataset": "fake", "n_images": 100, "top_k": 10, "ablation": "mean",
                   "reliability": FAKE_RELIABILITY}, f)
    vis_dir = os.path.join(root, "visualizations", LAYER)
    ex_dir = os.path.join(root, "examples", LAYER)
    os.makedirs(vis_dir, exist_ok=True)
    os.makedirs(ex_dir, exist_ok=True)
    examples = {}
    for c in imaged:
        _strip(c, 4, 0).save(os.path.join(vis_dir, f"channel_{c:04d}.png"))
        _strip(c, 8, 100).save(os.path.join(ex_dir, f"channel_{c:04d}_top.png"))
        _strip(c, 8, 200).save(os.path.join(ex_dir, f"channel_{c:04d}_bottom.png"))
        examples[str(c)] = {
            "top": [f"n0144{c:04d}_{i}.JPEG" for i in range(8)], "top_values": [9.5 - i for i in range(8)],
            "bottom": [f"n0155{c:04d}_{i}.JPEG" for i in range(8)], "bottom_values": [-i / 10 for i in range(8)],
        }
    with open(os.path.join(ex_dir, "examples.json"), "w") as f:
        json.dump(examples, f)
    if surveyed:
        _write_groups(os.path.join(root, "groups.csv"), rows, surveyed)
    return root


def _write_groups(path, rows, surveyed):
    order = list(surveyed)
    random.Random(0).shuffle(order)
    ranked = sorted(rows, key=lambda r: (-r["importance"], r["feature_ind"]))
    rank = {r["feature_ind"]: i for i, r in enumerate(ranked, start=1)}
    groups = [
        {
            "order": i, "feature_ind": c, "group": "top" if i % 2 else "middle",
            "importance": rows[c]["importance"], "rank": rank[c],
        }
        for i, c in enumerate(order, start=1)
    ]
    _write_csv(path, groups)


def _write_csv(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def chromium_missing_reason():
    """Why the browser tests cannot run here, or None."""
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright; no 'playwright install')"
    return None


@contextlib.contextmanager
def chromium():
    """A Playwright ``Browser`` on the Debian Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
