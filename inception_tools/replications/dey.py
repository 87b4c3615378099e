"""Dey et al., neuron basis vs principal components: explained variance and ablation, by the basis stage.

The source works on AlexNet (fc1: 80% of the activation variance in the first 42 principal components
against the 2,782 highest-variance neurons; ablating the highest-variance PCs hurts accuracy more than
ablating the highest-variance neurons in most layers). AlexNet is not here, so the claims are tested on
InceptionV1 (full mode: ``mixed4a`` with ablation, ``mixed5a`` explained variance only) or on the
embedded convnet's ``mixed3a`` (quick mode) with :func:`inception_tools.basis.stage.basis_study`
(the ``basis`` command): one activation vector per image at a random position, PCA, cumulative
ablation of the top-k vectors of each basis, McNemar test of the paired difference per k.
"""

import os

from inception_tools.basis.config import BasisConfig
from inception_tools.basis.stage import basis_study
from inception_tools.replications import page
from inception_tools.surgery import Network

THEIRS = {"pcs_80": 42, "neurons_80": 2782, "width": 4096}


def run_layer(model, dataset, layer, out_dir, ks=None, ablation_images=None):
    """basis.json of one layer (ablation on ``ablation_images`` photos at ``ks`` when ``ks`` is given)."""
    where = os.path.join(out_dir, f"dey-{model.name}-{layer}")
    net = Network(model, layer)
    try:
        config = BasisConfig(ks=ks, ablation_images=ablation_images, ablate=ks is not None)
        summary = dict(basis_study(net, dataset, where, config).summary)
    finally:
        net.close()
    summary["layer"] = layer
    return summary


def rows(layers, where):
    out = []
    for s in layers:
        k = s["explained_variance_k"]["layer"]
        pcs, neurons = k["pcs"]["0.8"], k["neurons"]["0.8"]
        out.append(page.Row(f"80% of the variance: PCs vs neurons ({s['layer']}, d = {s['d']})",
                            f"{THEIRS['pcs_80']} vs {THEIRS['neurons_80']} (AlexNet fc1, d = {THEIRS['width']})",
                            f"{pcs} vs {neurons} ({s['n_sampled']} sampled vectors)",
                            f"{where}; post-ReLU layer output", page.DIRECTION if pcs < neurons else page.DIFFERS,
                            "far fewer PCs than neurons, on another network" if pcs < neurons else
                            "PCs do not concentrate the variance here"))
    for s in layers:
        claim = s.get("pca_minus_neuron_top1")
        if not claim:
            continue
        ks = sorted(claim, key=int)
        worse = [k for k in ks if claim[k]["difference"] < 0 and claim[k].get("mcnemar_p", 1) < 0.05]
        cells = "; ".join(f"k={k}: {claim[k]['difference']:+.3f} (p {claim[k].get('mcnemar_p', float('nan')):.2g})"
                          for k in ks)
        status = (page.REPRODUCED if len(worse) > len(ks) / 2 else
                  page.DIRECTION if any(claim[k]["difference"] < 0 for k in ks) else page.DIFFERS)
        out.append(page.Row(f"ablating the top-k PCs hurts more than the top-k neurons ({s['layer']})",
                            "yes, in most layers",
                            f"top-1 after PCs minus after neurons: {cells}",
                            f"{s['ablation_images']} images; {where}", status,
                            "" if status == page.REPRODUCED else
                            f"PCs hurt more, significantly (p < 0.05) at {len(worse)} of {len(ks)} k"))
    out.append(page.Row("distance-minimizing strips isolate one direction", "yes (qualitative)", "-",
                        "`basis --vectors` writes the strips; whether one reads as a single direction is judged "
                        "by eye", page.NOT_RUNNABLE, "a visual judgement, not a figure"))
    return out


def section(out_dir, full, shared=None):
    """Full: InceptionV1 mixed4a (ablation on 200 photos) and mixed5a; quick: the embedded mixed3a."""
    from inception_tools.data import load_dataset
    from inception_tools.models import load_model

    def compute():
        if full:
            model = load_model("InceptionV1", os.path.join(shared, "models/inceptionv1/InceptionV1.pb"))
            dataset = load_dataset(os.path.join(shared, "data/imagenet-sample"), model)
            return {"layers": [run_layer(model, dataset, "mixed4a", out_dir, ks=[1, 4, 16, 64], ablation_images=200),
                               run_layer(model, dataset, "mixed5a", out_dir)],
                    "where": f"InceptionV1, {len(dataset)} sample photos (centre crop), top-1"}
        model = load_model("embedded")
        dataset = load_dataset("embedded", model)
        return {"layers": [run_layer(model, dataset, "mixed3a", out_dir, ks=[1, 4, 16, 32], ablation_images=200)],
                "where": f"embedded convnet, {len(dataset)} test digits"}

    values, seconds, reused = page.cached(out_dir, f"dey-{'full' if full else 'quick'}", compute)
    layers, where = values["layers"], values["where"]
    setting = ("`inception-tools basis --layer L --ks ...` (one vector per image at a seeded random position, "
               "PCA by SVD, cumulative mean ablation of the top-k basis vectors, exact McNemar p per k). "
               f"{where}.")
    return page.Section("dey", "Dey et al., neuron basis vs principal components", setting, rows(layers, where), "",
                        values, seconds, reused)
