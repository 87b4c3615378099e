"""Building Blocks (Olah et al.): does the attribution of each class fall on its own object?

The source attributes the "Labrador retriever" and "tiger cat" logits of ``dog_cat.jpg`` at mixed4d
and shows them on the dog and on the cat, and channel attributions and NMF groups that separate the two.
Here :func:`inception_tools.blocks.build.analyse_layer` (the ``blocks`` stage without its renders)
computes the attributions, exactly by mean-ablating each position and channel; the dog and the cat are
located by two boxes read off the photo (:data:`BOXES`: dog left of 60% of the width, cat right of it).
Measured: each class's share of positive position attribution in each box; Spearman rho between the two
classes' channel attributions; NMF groups whose map lies mostly in one box and whose attribution favours
that box's class.

Quick mode builds the same question from the embedded convnet: a ``3`` squeezed into the left half
and a ``7`` into the right half of one 28 x 28 image, attributed at ``mixed3a`` to classes 3 and 7.
"""

import os

import numpy as np

from inception_tools.blocks.build import analyse_layer, dataset_means, load_image, parse_classes, top_classes
from inception_tools.replications import page
from inception_tools.surgery import Network

BOXES = {"full": 0.6, "quick": 0.5}  # the boundary between the two objects, as a fraction of the width


def side_shares(position_map, boundary):
    """(left share, right share) of the positive entries of an [H, W] attribution map."""
    positive = np.clip(np.asarray(position_map, np.float64), 0, None)
    total = positive.sum()
    if total <= 0:
        return 0.0, 0.0
    columns = (np.arange(positive.shape[1]) + 0.5) / positive.shape[1]
    left = positive[:, columns < boundary].sum() / total
    return float(left), float(1 - left)


def composite_digits(model, dataset, left=3, right=7):
    """One [1, 28, 28, 3] image: the first ``left`` digit squeezed into the left half, ``right`` into the right."""
    labels = np.asarray(dataset.labels)
    first = [int(np.flatnonzero(labels == d)[0]) for d in (left, right)]
    halves = [dataset.images(i, i + 1)[0].reshape(28, 14, 2, 3).mean(axis=2) for i in first]
    return np.concatenate(halves, axis=1)[None].astype(np.float32)


def measure(model, image, layer, classes, means, boundary):
    net = Network(model, layer)
    try:
        logits = net.unablated_logits(image)[0]
        top = top_classes(logits, model, 3)
        order = top_classes(logits, model, model.num_classes)
        ranks = [1 + order.index(c) for c in classes]
        blocks = analyse_layer(net, image, classes, means=means)
    finally:
        net.close()
    a, b = blocks.attributions
    shares = {model.label_names[x.label]: {"ablation": side_shares(x.ablation_position, boundary),
                                           "linear": side_shares(x.linear_position, boundary)}
              for x in (a, b)}
    maps = blocks.groups.maps.astype(np.float64)
    columns = (np.arange(maps.shape[1]) + 0.5) / maps.shape[1]
    mass_left = maps[:, columns < boundary].sum(axis=(0, 1)) / np.maximum(maps.sum(axis=(0, 1)), 1e-12)
    attr = blocks.group_attributions
    left_groups = int(((mass_left > 0.5) & (attr[0] > attr[1])).sum())
    right_groups = int(((mass_left < 0.5) & (attr[1] > attr[0])).sum())
    from scipy.stats import spearmanr

    rho = float(spearmanr(a.ablation_channel, b.ablation_channel).statistic)
    top_a = set(np.argsort(-a.ablation_channel)[:10].tolist())
    top_b = set(np.argsort(-b.ablation_channel)[:10].tolist())
    return {"top_classes": [model.label_names[c] for c in top], "classes": [model.label_names[c] for c in classes],
            "shares": shares, "channel_rho": rho, "ranks": ranks, "top10_shared": len(top_a & top_b),
            "groups": len(attr[0]), "left_groups": left_groups, "right_groups": right_groups,
            "logits": [a.logit, b.logit], "boundary": boundary}


def rows(m, where):
    first, second = m["classes"]
    sa, sb = m["shares"][first]["ablation"], m["shares"][second]["ablation"]
    la, lb = m["shares"][first]["linear"], m["shares"][second]["linear"]
    falls = sa[0] > 0.5 and sb[1] > 0.5
    direction = sa[0] > sb[0]
    out = [page.Row(f"attribution of {first} / {second} falls on its own object",
                    "on the dog / on the cat (figures)" if "Labrador" in first else "(quick-mode stand-in)",
                    f"{first}: {sa[0]:.0%} of the positive position attribution on the left object "
                    f"(linear {la[0]:.0%}); {second}: {sb[1]:.0%} on the right object (linear {lb[1]:.0%})",
                    f"{where}; exact ablation per position, objects split at {m['boundary']:.0%} of the width",
                    page.REPRODUCED if falls else page.DIRECTION if direction else page.DIFFERS,
                    "" if falls else "shifted toward its object, not mostly on it" if direction else "")]
    separate = m["left_groups"] > 0 and m["right_groups"] > 0
    out.append(page.Row("channel attributions and NMF groups separate the two",
                        "yes (figures)" if "Labrador" in first else "(quick-mode stand-in)",
                        f"Spearman rho of the two classes' channel attributions {m['channel_rho']:.2f}, "
                        f"{m['top10_shared']} of their top-10 channels shared; of {m['groups']} NMF groups "
                        f"{m['left_groups']} lie on the left object and favour {first}, {m['right_groups']} on the "
                        f"right and favour {second}", where,
                        page.REPRODUCED if separate else page.DIFFERS, "" if separate else "no group per object"))
    high = max(m["ranks"]) <= 10
    out.append(page.Row("the two classes are among the image's top classes",
                        "Labrador retriever and tiger cat shown" if "Labrador" in first else "(quick-mode stand-in)",
                        f"{first} rank {m['ranks'][0]}, {second} rank {m['ranks'][1]} by logit; top 3: "
                        + "; ".join(m["top_classes"]), where, page.REPRODUCED if high else page.DIRECTION,
                        "" if high else "one class ranks below our top 10"))
    return out


def section(out_dir, full, shared=None):
    """Full: InceptionV1 mixed4d on dog_cat.jpg (baseline: means over 100 photos); quick: two digits."""
    from inception_tools.data import load_dataset
    from inception_tools.models import load_model

    def compute():
        if full:
            model = load_model("InceptionV1", os.path.join(shared, "models/inceptionv1/InceptionV1.pb"))
            image = load_image(os.path.join(shared, "data/building-blocks/dog_cat.jpg"), model, "squash")
            layer, classes = "mixed4d", parse_classes("Labrador retriever,tiger cat", model)
            means, baseline = dataset_means(model, [layer], os.path.join(shared, "data/imagenet-sample"), limit=100)
            where = f"InceptionV1 {layer}, dog_cat.jpg squashed to 224 px, {baseline}"
        else:
            model = load_model("embedded")
            image = composite_digits(model, load_dataset("embedded", model))
            layer, classes = "mixed3a", [3, 7]
            means, baseline = dataset_means(model, [layer], "embedded", limit=200)
            where = f"embedded convnet {layer}, a 3 (left half) and a 7 (right half) in one image, {baseline}"
        return dict(measure(model, image, layer, classes, means[layer], BOXES["full" if full else "quick"]),
                    where=where)

    m, seconds, reused = page.cached(out_dir, f"blocks-{'full' if full else 'quick'}", compute)
    where = m["where"]
    setting = (f"`inception-tools blocks` computations (`blocks.build.analyse_layer`, renders left out): {where}.")
    return page.Section("blocks", "Olah et al., Building Blocks", setting, rows(m, where), "", m, seconds, reused)
