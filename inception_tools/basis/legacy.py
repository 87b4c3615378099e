"""Basis folders made before the study runner: taken over when their settings are this run's.

Such a folder's ``settings.json`` is the old flat manifest (model, layer, dataset, n_images, resize,
pixel_scaling, seed, components, tensor, pre_relu_tensor: what ``basis.json`` still records under
``settings``). When it equals what this run records, :func:`adopt` rewrites it in the runner's form
(stage, config, inputs) and moves an unfinished ablation (``ablation.partial/``) into the runner's
checkpoint (``.partial/ablation``), so the run reads the folder back or continues it; otherwise the
folder is refused in one line, as the runner refuses other settings. The old manifest did not cover the
ablation curves (a rerun kept an ``ablation.csv`` made with other k values or images), so one on disk
must record this run's k values, number of images and top-k.
"""

import csv
import os

from inception_tools import layout, runner
from inception_tools.errors import UserError
from inception_tools.manifest import differences, read_manifest

OLD_PARTIAL = "ablation.partial"


def adopt(stage, out_dir, old, manifest, curves=None):
    """Take over ``out_dir`` if it is a basis folder of the old form with settings ``old``.

    Args:
        stage: the basis stage (:data:`inception_tools.basis.stage.STAGE`).
        out_dir: the study folder (may not exist).
        old: the old-form settings this run would have recorded.
        manifest: the runner's ``settings.json`` for this run (:func:`inception_tools.runner.settings`).
        curves: what this run's ``ablation.csv`` would record (``ks``, ``n_images``, ``top_k``; None
            without the ablation): the old manifest did not cover the curves, so one on disk must match.

    Returns:
        True when the folder was taken over (its manifest rewritten), False when there was nothing to do.

    Raises:
        UserError: the old manifest holds other settings, or the folder's ``ablation.csv`` other curves.
    """
    stored = read_manifest(layout.settings_json(out_dir))
    if stored is None or "stage" in stored:
        return False
    found = _curves_on_disk(os.path.join(out_dir, "ablation.csv"))
    if curves is not None and found is not None and found != curves:
        changed = differences(found, curves)
        raise UserError(f"{out_dir}/ablation.csv was made by an earlier version with {', '.join(changed)}; delete "
                        "it or choose another output folder")
    runner.adopt(stage, out_dir, old, manifest)
    unfinished, checkpoint = os.path.join(out_dir, OLD_PARTIAL), os.path.join(out_dir, runner.PARTIAL, "ablation")
    if os.path.isdir(unfinished) and not os.path.exists(checkpoint):
        os.makedirs(os.path.dirname(checkpoint), exist_ok=True)
        os.replace(unfinished, checkpoint)
    return True


def _curves_on_disk(path):
    """The k values, images and top-k an ``ablation.csv`` records, or None without one."""
    if not os.path.isfile(path):
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {"ks": sorted({int(r["k"]) for r in rows}),
            "n_images": int(rows[0]["n_images"]) if rows else 0, "top_k": int(rows[0]["top_k"]) if rows else 0}
