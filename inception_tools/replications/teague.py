"""Teague, class-conditional activation vectors, on the embedded MLP: Tables 2, 3, 5, 6 and 8.

The source's MLP is 784-128-64-32-10 on MNIST (60,000 training images); ours is the same shape
(``embedded-mlp``, ``dense1..3``) trained on 4,000 digits and tested on the 1,000 held-out ones
(100 per digit). Layer names: the source's L0 (input, 784), L1, L3, L5 are our ``flatten``,
``dense1``, ``dense2``, ``dense3``.

Everything "ours" comes from :func:`inception_tools.classes.class_study` (the ``classes`` stage),
run once per contributing-unit definition (:mod:`inception_tools.classes.contribution`), and read
back from the files it writes (``classes.csv``, ``matrices/``). The input layer L0 is not a layer of
the stage (a pixel is not a unit), so :func:`input_stats` feeds the pixels, with the same
definitions, to the stage's own :class:`~inception_tools.classes.stats.ClassAccumulator`.

"Clearly predicted", as the source uses it: every kept image is right and the kept images' mean loss
is 0.0000-0.0015 per digit. We keep an image when its true class's probability is at least
:data:`SOURCE_THRESHOLD` (0.999, so each kept image's loss is at most 0.001); the toolkit's default
(0.9) is shown beside it.
"""

import csv
import os

import numpy as np

from inception_tools.classes import class_study
from inception_tools.classes.config import ClassesConfig
from inception_tools.classes.compare import matrices
from inception_tools.classes.contribution import TrueClassGradients, attribution_signs, keep_masks
from inception_tools.classes.stats import ClassAccumulator, confident_correct
from inception_tools.replications import page
from inception_tools.surgery import Network

LAYERS = (("L0", "flatten", 784), ("L1", "dense1", 128), ("L3", "dense2", 64), ("L5", "dense3", 32))
HIDDEN = [layer for _, layer, _ in LAYERS[1:]]
SOURCE_THRESHOLD = 0.999
DEFAULT_THRESHOLD = 0.9
DEFINITIONS = ("source", "source-gradient", "active")
DIGITS = list(range(10))

# The source's figures, as ../shared/reference/published-figures.md transcribes them.
THEIRS = {
    "accuracy": 0.980,
    "loss": 0.108,
    "digit_accuracy": [0.992, 0.996, 0.971, 0.980, 0.975, 0.976, 0.985, 0.983, 0.973, 0.968],
    "kept": (744, 746),
    "filtered_loss": (0.0, 0.0015),
    "contributing": {
        "L0": [193, 173, 272, 234, 241, 258, 208, 240, 204, 186],
        "L1": [48, 51, 61, 45, 50, 62, 57, 60, 52, 51],
        "L3": [23, 11, 23, 28, 20, 14, 24, 26, 26, 23],
        "L5": [12, 13, 13, 15, 14, 13, 13, 13, 17, 15],
    },
    "counts_L5": "mostly 697-746 of ~746 images; minima 5 (digit 2) and 8 (digit 6)",
    "euclid": {"L0": (4.56, 6.54), "L1": (4.96, 16.59), "L3": (9.28, 26.59), "L5": (18.91, 49.29)},
    "euclid_L1_digit0": (14.5, 16.59),
    "euclid_L1_rest": (4.96, 13.2),
    "jaccard": {"L0": (0.15, 0.35), "L1": (0.11, 0.55), "L3": (0.03, 0.43), "L5": (0.08, 0.40)},
    "pairs": [("L1", 1, 5, 0.55), ("L1", 7, 5, 0.47), ("L1", 8, 2, 0.45), ("L3", 2, 1, 0.03)],
}


def forward(model, dataset, batch_size=250):
    """Probabilities [N, 10], pixels [N, 784] (the ``flatten`` tensor) and where pixel x true-class gradient > 0."""
    net = Network(model, "dense1")
    probs, pixels, signs = [], [], []
    try:
        gradients = TrueClassGradients.of(net, ["flatten"])
        for start, images in dataset.batches(batch_size):
            labels = dataset.labels[start:start + len(images)]
            (x, p), (g,) = gradients.fetch([net.T("flatten"), net.T(model.output_name)], images, labels)
            probs.append(p)
            pixels.append(x)
            signs.append(attribution_signs(x, g))
    finally:
        net.close()
    return np.concatenate(probs), np.concatenate(pixels).astype(np.float64), np.concatenate(signs)


def input_stats(model, pixels, signs, labels, confident, definition):
    """:class:`ClassAccumulator` of the pixels (L0) of the confidently right images under ``definition``."""
    if definition == "source":
        pixels = pixels * keep_masks(model, ["flatten"])["flatten"][labels]
    elif definition == "source-gradient":
        pixels = pixels * signs
    stats = ClassAccumulator(10, pixels.shape[1])
    stats.update(pixels, np.where(confident, labels, -1), np.arange(len(labels)))
    return stats


def read_study(out_dir):
    """Per layer from the stage's files: contributing counts per digit, per-digit unit counts, matrices."""
    counts, contributing, kept = {}, {}, {}
    with open(os.path.join(out_dir, "classes.csv"), newline="") as f:
        for row in csv.DictReader(f):
            layer, digit = row["layer"], int(row["class"])
            kept[digit] = int(row["n_images"])
            counts.setdefault(layer, {}).setdefault(digit, []).append(int(row["count"]))
            contributing.setdefault(layer, {}).setdefault(digit, []).append(row["contributing"] == "1")
    result = {"kept": [kept[d] for d in DIGITS], "layers": {}}
    for layer in HIDDEN:
        mats = {name: np.loadtxt(os.path.join(out_dir, "matrices", f"{layer}_{name}.csv"), delimiter=",",
                                 skiprows=1, usecols=range(1, 11)) for name in ("euclid_mean", "jaccard")}
        result["layers"][layer] = {
            "contributing": [int(sum(contributing[layer][d])) for d in DIGITS],
            "counts": [np.array(counts[layer][d])[np.array(contributing[layer][d])].tolist() for d in DIGITS],
            "euclid": mats["euclid_mean"], "jaccard": mats["jaccard"]}
    return result


def from_stats(stats):
    """The same entries as :func:`read_study` gives per layer, from a :class:`ClassAccumulator`."""
    contributing = stats.contributing()
    mats = matrices(stats)
    return {"contributing": [int(c) for c in contributing.sum(axis=1)],
            "counts": [stats.count[d][contributing[d]].tolist() for d in DIGITS],
            "euclid": mats["euclid_mean"], "jaccard": mats["jaccard"]}


def pairs(matrix):
    """Off-diagonal entries of a symmetric 10 x 10 matrix as ``[(value, i, j)]`` with i < j."""
    return [(float(matrix[i, j]), i, j) for i in DIGITS for j in DIGITS if i < j]


def measure(model, dataset, out_dir, replicates=0):
    """Run everything the tables need; return a JSON-ready dict (see :func:`section`)."""
    probs, pixels, signs = forward(model, dataset)
    labels = np.asarray(dataset.labels)
    true = probs[np.arange(len(labels)), labels]
    right = probs.argmax(axis=1) == labels
    loss = -np.log(np.maximum(true, 1e-30))
    out = {"n_images": len(labels), "accuracy": float(right.mean()), "loss": float(loss.mean()),
           "digit_accuracy": [float(right[labels == d].mean()) for d in DIGITS],
           "seen": [int((labels == d).sum()) for d in DIGITS], "filters": {}, "definitions": {}}
    for threshold in (SOURCE_THRESHOLD, DEFAULT_THRESHOLD):
        keep = confident_correct(probs, labels, threshold)
        out["filters"][str(threshold)] = {
            "kept": [int((keep & (labels == d)).sum()) for d in DIGITS],
            "all_right": bool(right[keep].all()),
            "filtered_loss": [float(loss[keep & (labels == d)].mean()) for d in DIGITS]}
    out["positive_weights"] = {layer: keep_masks(model, [layer])[layer].sum(axis=1).tolist() for _, layer, _ in LAYERS}
    confident = confident_correct(probs, labels, SOURCE_THRESHOLD)
    runs = [(d, SOURCE_THRESHOLD) for d in DEFINITIONS] + [("active", DEFAULT_THRESHOLD)]
    for definition, threshold in runs:
        where = os.path.join(out_dir, f"teague-{definition}-{threshold}")
        class_study(model, dataset, ClassesConfig(tuple(HIDDEN), threshold=threshold, replicates=replicates,
                                                  definition=definition), where)
        study = read_study(where)
        keep = confident_correct(probs, labels, threshold) if threshold != SOURCE_THRESHOLD else confident
        study["layers"]["flatten"] = from_stats(input_stats(model, pixels, signs, labels, keep, definition))
        out["definitions"][f"{definition}@{threshold}"] = study
    return out


def _range(layer_result, name):
    values = [v for v, _, _ in pairs(layer_result[name])]
    return (min(values), max(values))


def _rank(matrix, i, j, largest=True):
    """Rank (1 = most similar when ``largest``) of pair (i, j) among the 45 pairs."""
    ordered = sorted(pairs(matrix), reverse=largest)
    return 1 + [(a, b) for _, a, b in ordered].index((min(i, j), max(i, j)))


def explanation(m):
    """A paragraph, with the run's numbers, on why the definitions give the counts they give."""
    src, grad = m["definitions"][f"source@{SOURCE_THRESHOLD}"], m["definitions"][f"source-gradient@{SOURCE_THRESHOLD}"]
    default = m["definitions"][f"active@{DEFAULT_THRESHOLD}"]

    def counts(run, layer):
        return page.span(run["layers"][layer]["contributing"])

    def jac(run, layer):
        return page.span(_range(run["layers"][layer], "jaccard"), 2)

    return (
        "### What the numbers say\n\n"
        f"- **Ours (active) cannot be set beside the source's tables.** A unit counts for a digit when any kept "
        f"image activates it: L1 {counts(default, 'dense1')} of 128, L3 {counts(default, 'dense2')} of 64, L5 "
        f"{counts(default, 'dense3')} of 32, and two digits' sets overlap with Jaccard {jac(default, 'dense1')} (L1), "
        f"{jac(default, 'dense3')} (L5): nearly every unit serves every digit.\n"
        f"- **The source's definition reproduces Table 3 and Table 8.** Zeroing each value whose contribution to "
        f"the digit is negative leaves L5 {counts(src, 'dense3')} of 32 (theirs 12-17) and L1 {counts(src, 'dense1')} "
        f"of 128 (theirs 45-62); Jaccard {jac(src, 'dense1')} in L1 (theirs 0.11-0.55), {jac(src, 'dense3')} in L5 "
        f"(theirs 0.08-0.40). In L5 the sign is the weight into the digit's output, so the count is the number of "
        f"positive weights ({page.span(m['positive_weights']['dense3'])} of 32 per digit) less the units that "
        f"never fire on the digit's kept images.\n"
        f"- **Carrying the sign through earlier layers.** The summed path weight (the product of the weight "
        f"matrices to the logits; positive for {page.span(m['positive_weights']['dense1'])} of the 128 L1 units "
        f"per digit) gives L1 {counts(src, 'dense1')} and L3 {counts(src, 'dense2')}. The per-image gradient of "
        f"the digit's logit keeps more (L1 {counts(grad, 'dense1')}, L3 {counts(grad, 'dense2')}; Jaccard "
        f"{jac(grad, 'dense1')} in L1): a unit whose summed path weight is negative can still help the digit "
        f"through the ReLUs its images switch on. The path sign is the one that matches the source's ranges.\n"
        f"- **What differs.** L3: ours {counts(src, 'dense2')} of 64, theirs 11-28; the named pairs (1 vs 5 and "
        f"7 vs 5 most similar in L1) do not stand out on our model, which was trained on 4,000 digits rather than "
        f"60,000; distances are on our model's activation scale (L5 "
        f"{page.span(_range(src['layers']['dense3'], 'euclid'))}, theirs 18.91-49.29).\n\n")


def detail_tables(m):
    src, grad = m["definitions"][f"source@{SOURCE_THRESHOLD}"], m["definitions"][f"source-gradient@{SOURCE_THRESHOLD}"]
    act, default = m["definitions"][f"active@{SOURCE_THRESHOLD}"], m["definitions"][f"active@{DEFAULT_THRESHOLD}"]
    strict, loose = m["filters"][str(SOURCE_THRESHOLD)], m["filters"][str(DEFAULT_THRESHOLD)]
    out = [explanation(m), "### Table 2: accuracy per digit, and the clearly predicted images\n"]
    rows = [[d, f"{THEIRS['digit_accuracy'][d]:.3f}", f"{m['digit_accuracy'][d]:.3f}", "744-746",
             f"{strict['kept'][d]} / {m['seen'][d]}", f"{strict['filtered_loss'][d]:.4f}",
             f"{loose['kept'][d]} / {m['seen'][d]}"] for d in DIGITS]
    rows.append(["all", f"{THEIRS['accuracy']:.3f} (loss {THEIRS['loss']})", f"{m['accuracy']:.3f} (loss {m['loss']:.3f})",
                 "", f"{sum(strict['kept'])} / {m['n_images']}", "", f"{sum(loose['kept'])} / {m['n_images']}"])
    out.append(page.table(["digit", "accuracy, theirs", "accuracy, ours", "kept, theirs",
                           f"kept, ours (p >= {SOURCE_THRESHOLD})", "filtered loss, ours",
                           f"kept, ours (p >= {DEFAULT_THRESHOLD})"], rows))
    out.append("\n### Table 3: contributing nodes per digit\n")
    rows = []
    for name, layer, width in LAYERS:
        rows.append([f"{name} ({width})", "theirs"] + THEIRS["contributing"][name] + [page.span(THEIRS["contributing"][name])])
        for label, run in (("ours, source (path sign)", src), ("ours, source-gradient", grad),
                           (f"ours, active (p >= {SOURCE_THRESHOLD})", act), (f"ours, active (p >= {DEFAULT_THRESHOLD}, default)", default)):
            values = run["layers"][layer]["contributing"]
            rows.append([f"{name} = {layer}", label] + values + [page.span(values)])
    out.append(page.table(["layer", "who"] + [str(d) for d in DIGITS] + ["range"], rows))
    out.append("\n### Table 5: activation counts of the contributing nodes of L5 (min-max over nodes, of the kept images)\n")
    rows = []
    for d in DIGITS:
        cells = [d, src["kept"][d]]
        for run in (src, act):
            c = run["layers"]["dense3"]["counts"][d]
            cells.append(page.span(c) if c else "none")
        rows.append(cells)
    out.append(f"Theirs: {THEIRS['counts_L5']}.\n\n")
    out.append(page.table(["digit", "kept images", "ours, source", "ours, active"], rows))
    out.append("\n### Table 6: Euclidean distance between digit mean vectors (range over the 45 pairs)\n")
    rows = []
    for name, layer, _ in LAYERS:
        rows.append([name, page.span(THEIRS["euclid"][name]), page.span(_range(src["layers"][layer], "euclid")),
                     page.span(_range(grad["layers"][layer], "euclid")), page.span(_range(act["layers"][layer], "euclid"))])
    out.append(page.table(["layer", "theirs", "ours, source", "ours, source-gradient", "ours, active"], rows))
    out.append("\n### Table 8: Jaccard similarity of the contributing sets (range over the 45 pairs; named pairs)\n")
    rows = []
    for name, layer, _ in LAYERS:
        rows.append([name, page.span(THEIRS["jaccard"][name], 2), page.span(_range(src["layers"][layer], "jaccard"), 2),
                     page.span(_range(grad["layers"][layer], "jaccard"), 2), page.span(_range(act["layers"][layer], "jaccard"), 2)])
    for name, i, j, theirs in THEIRS["pairs"]:
        layer = dict((n, l) for n, l, _ in LAYERS)[name]
        cells = [f"{name}: {i} vs {j}", f"{theirs:.2f}"]
        for run in (src, grad, act):
            mat = run["layers"][layer]["jaccard"]
            end = "top" if theirs > 0.1 else "bottom"
            cells.append(f"{mat[i, j]:.2f} (rank {_rank(mat, i, j, theirs > 0.1)} of 45 from the {end})")
        rows.append(cells)
    out.append(page.table(["layer / pair", "theirs", "ours, source", "ours, source-gradient", "ours, active"], rows))
    return "".join(out)


def summary_rows(m):
    src = m["definitions"][f"source@{SOURCE_THRESHOLD}"]
    act = m["definitions"][f"active@{DEFAULT_THRESHOLD}"]
    strict = m["filters"][str(SOURCE_THRESHOLD)]
    rows = [page.Row("test accuracy (Table 2)", f"{THEIRS['accuracy']:.3f}, digits {page.span(THEIRS['digit_accuracy'])}",
                     f"{m['accuracy']:.3f}, digits {page.span(m['digit_accuracy'])}",
                     f"trained on 4,000 digits (theirs 60,000); {m['n_images']} test digits",
                     page.REPRODUCED if abs(m["accuracy"] - THEIRS["accuracy"]) <= 0.01 else page.DIFFERS,
                     "" if abs(m["accuracy"] - THEIRS["accuracy"]) <= 0.01 else "a smaller training set")]
    loss_ok = strict["all_right"] and max(strict["filtered_loss"]) <= THEIRS["filtered_loss"][1]
    rows.append(page.Row("clearly predicted: kept per digit, filtered loss", "744-746, all right, loss 0.0000-0.0015",
                         f"{page.span(strict['kept'])} of {page.span(m['seen'])} per digit, all right: {strict['all_right']}, "
                         f"loss {page.span(strict['filtered_loss'], 2)}",
                         f"p(true) >= {SOURCE_THRESHOLD}; 100 test digits per digit (theirs ~1,000)",
                         page.DIRECTION if loss_ok else page.DIFFERS,
                         "same loss criterion, fewer images" if loss_ok else "the filter does not meet the source's loss"))
    for name, layer, width in LAYERS:
        ours = src["layers"][layer]["contributing"]
        theirs = THEIRS["contributing"][name]
        under_half = max(ours) < width / 2
        status = page.status_of_range((min(ours), max(ours)), (min(theirs), max(theirs)), under_half)
        why = {page.REPRODUCED: "", page.DIRECTION: "under half of the layer, other range",
               page.DIFFERS: "not under half of the layer"}[status]
        rows.append(page.Row(f"contributing nodes {name} (Table 3, of {width})", page.span(theirs),
                             f"{page.span(ours)} (source def.); ours (active, p >= 0.9): "
                             f"{page.span(act['layers'][layer]['contributing'])}",
                             "source definition: value zeroed unless its summed path weight to the digit is positive",
                             status, why))
    shares = np.concatenate([np.array(c) / n for c, n in zip(src["layers"]["dense3"]["counts"], src["kept"]) if c])
    low = [f"{d} ({min(c)} of {n})" for d, (c, n) in enumerate(zip(src["layers"]["dense3"]["counts"], src["kept"]))
           if c and min(c) < 0.1 * n]
    typical = float(np.median(shares))
    rows.append(page.Row("L5 activation counts (Table 5)", THEIRS["counts_L5"],
                         f"median contributing node fires on {typical:.0%} of a digit's kept images; digits with a "
                         f"node under 10%: {', '.join(low) or 'none'}",
                         f"{page.span(src['kept'])} kept images per digit (theirs ~746)",
                         page.DIRECTION if typical >= 0.9 and low else page.DIFFERS,
                         "most nodes fire on nearly every image, a few digits have a rarely active node"
                         if typical >= 0.9 and low else "the count profile is another"))
    maxima = []
    for name, layer, _ in LAYERS:
        ours = _range(src["layers"][layer], "euclid")
        maxima.append(ours[1])
        status = page.status_of_range(ours, THEIRS["euclid"][name], True)
        why = ("the pixels kept differ with the model's path signs" if layer == "flatten" else
               "our activations have their own scale (another training)")
        rows.append(page.Row(f"Euclidean distance {name} (Table 6)", page.span(THEIRS["euclid"][name]), page.span(ours),
                             "zeroed means (source def.)", status, "" if status == page.REPRODUCED else why))
    grows = all(a < b for a, b in zip(maxima, maxima[1:]))
    grows_hidden = all(a < b for a, b in zip(maxima[1:], maxima[2:]))
    rows.append(page.Row("distances grow with depth", "yes: largest pair 6.54 (L0), 16.59, 26.59, 49.29 (L5)",
                         "largest pair " + ", ".join(f"{v:.2f}" for v in maxima) + (
                             ": grows" if grows else ": grows over the hidden layers L1-L5" if grows_hidden else ""),
                         "largest pair distance per layer, source def.",
                         page.REPRODUCED if grows else page.DIRECTION if grows_hidden else page.DIFFERS,
                         "" if grows else "our L0 (pixels) is farther apart than L1" if grows_hidden else ""))
    l1 = src["layers"]["dense1"]["euclid"]
    far = [float(np.mean([l1[d, e] for e in DIGITS if e != d])) for d in DIGITS]
    zero = [l1[0, e] for e in DIGITS[1:]]
    rest = [v for v, i, j in pairs(l1) if i != 0]
    apart = min(zero) > max(rest)
    farthest = int(np.argmax(far)) == 0
    rows.append(page.Row("L1: digit 0 far from the others", "0 vs others 14.5-16.59, the rest 4.96-13.2",
                         f"0 vs others {page.span(zero)}, the rest {page.span(rest)}; digit 0 is the farthest on "
                         f"average (rank {1 + sorted(far, reverse=True).index(far[0])} of 10, {far[0]:.2f})",
                         "source def.", page.REPRODUCED if apart else page.DIRECTION if farthest else page.DIFFERS,
                         "" if apart else "digit 0 is the farthest on average, but its ranges overlap the rest's"
                         if farthest else "our digit 0 is not the outlier"))
    for name, layer, _ in LAYERS:
        ours = _range(src["layers"][layer], "jaccard")
        status = page.status_of_range(ours, THEIRS["jaccard"][name], ours[1] < 1.0)
        rows.append(page.Row(f"Jaccard {name} (Table 8)", page.span(THEIRS["jaccard"][name], 2), page.span(ours, 2),
                             "source def.", status, "" if status == page.REPRODUCED else "other range"))
    for name, i, j, theirs in THEIRS["pairs"]:
        layer = dict((n, l) for n, l, _ in LAYERS)[name]
        mat = src["layers"][layer]["jaccard"]
        largest = theirs > 0.1
        rank = _rank(mat, i, j, largest)
        ok = rank <= 5
        best = sorted(pairs(mat), reverse=largest)[0]
        rows.append(page.Row(f"Jaccard {name} {i} vs {j} ({'most' if largest else 'least'} similar)", f"{theirs:.2f}",
                             f"{mat[i, j]:.2f}, rank {rank} of 45 from the {'top' if largest else 'bottom'} "
                             f"(ours: {best[1]} vs {best[2]}, {best[0]:.2f})",
                             "source def.", page.REPRODUCED if ok else page.DIFFERS,
                             "" if ok else "another pair stands out on our model"))
    return rows


def section(out_dir, replicates=0):
    """The Teague section: runs the stage on the embedded MLP and the 1,000 test digits."""
    from inception_tools.data import load_dataset
    from inception_tools.models import load_model

    def compute():
        model = load_model("embedded-mlp")
        return measure(model, load_dataset("embedded", model), out_dir, replicates)

    m, seconds, reused = page.cached(out_dir, "teague", compute)
    for run in m["definitions"].values():
        for layer in run["layers"].values():
            layer["euclid"], layer["jaccard"] = np.asarray(layer["euclid"]), np.asarray(layer["jaccard"])
    setting = ("Model `embedded-mlp` (784-128-64-32-10, ReLU), the 1,000 held-out digits; `inception-tools classes "
               "--model embedded-mlp --layers dense1,dense2,dense3 --threshold 0.999 --definition source` (and "
               "`source-gradient`, `active`); L0 from the pixels through the same statistics. **Definitions**: "
               "*source* keeps a unit's value for a digit only where its summed path weight to the digit's logit "
               "(the product of the weight matrices after it; for L5 the weight itself) is positive; "
               "*source-gradient* carries the sign through image by image (activation x gradient of the digit's "
               "logit > 0; equal to *source* in L5); *active* (ours, the stage's default) keeps every value and "
               "counts a unit when it is active on one kept image.")
    return page.Section("teague", "Teague, class-conditional activation vectors (embedded MLP)", setting,
                        summary_rows(m), detail_tables(m), m, seconds, reused)
