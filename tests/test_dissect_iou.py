"""IoU summed over a dataset, detectors and compositional formulas on synthetic masks with known answers."""

import numpy as np

from inception_tools.dissect import compose, iou


def squares(n=3, size=8):
    """Concept 0: left half; concept 1: top half; concept 2: nothing; per image."""
    concepts = np.zeros((n, size, size, 3), bool)
    concepts[:, :, : size // 2, 0] = True
    concepts[:, : size // 2, :, 1] = True
    return concepts


def test_iou_is_summed_over_the_dataset_not_averaged():
    concepts = squares(n=2)
    units = np.zeros((2, 8, 8, 2), bool)
    units[0, :, :4, 0] = True            # image 0: unit 0 = left half exactly (32 px)
    units[1, :2, :2, 0] = True           # image 1: unit 0 = a 2x2 corner inside the left half (4 px)
    units[:, :4, :4, 1] = True           # unit 1: top-left quarter in both images
    counts = iou.Counts(2, 3, groups=20)
    flat_u = units.reshape(2, -1, 2).astype(np.int64)
    flat_c = concepts.reshape(2, -1, 3).astype(np.int64)
    counts.add(np.einsum("npk,npc->nkc", flat_u, flat_c), flat_u.sum(1), concepts, rows=np.array([0, 21]))
    assert counts.intersection[1].tolist() == [[4, 4, 0], [16, 16, 0]] and counts.intersection[2:].sum() == 0
    scores = iou.iou(counts.intersection.sum(0), counts.unit_area.sum(0), counts.concept_area.sum(0))
    # unit 0, concept 0: (32 + 4) / (32 + 32) ; a mean of per-image IoUs would be (1 + 4/32) / 2
    assert np.isclose(scores[0, 0], 36 / 64)
    # unit 1 (16 px per image) vs left half (32 px): 16 / 32 in each image -> 32 / 64
    assert np.isclose(scores[1, 0], 0.5) and np.isclose(scores[1, 1], 0.5)
    assert scores[0, 2] == 0 and scores[1, 2] == 0
    best, value = iou.best_concepts(scores)
    assert best.tolist() == [0, 0] and np.allclose(value, [36 / 64, 0.5])  # ties: the lower concept


def test_jackknife_matches_leave_one_group_out_by_hand():
    rng = np.random.default_rng(0)
    inter = rng.integers(0, 50, (5, 3, 2))
    unit = inter.max(axis=2) + rng.integers(0, 50, (5, 3))
    concept = inter.max(axis=1) + rng.integers(0, 50, (5, 2))
    channels, concepts = np.array([0, 2]), np.array([1, 0])
    se = iou.jackknife_se(inter, unit, concept, channels, concepts)
    for i, (k, c) in enumerate(zip(channels, concepts)):
        loo = []
        for g in range(5):
            keep = np.arange(5) != g
            loo.append(iou.iou(inter[keep].sum(0), unit[keep].sum(0), concept[keep].sum(0))[k, c])
        assert np.isclose(se[i], np.sqrt(4 / 5 * ((np.array(loo) - np.mean(loo)) ** 2).sum()))
    # identical groups: no spread
    same = np.repeat(inter[:1], 5, axis=0), np.repeat(unit[:1], 5, axis=0), np.repeat(concept[:1], 5, axis=0)
    assert np.allclose(iou.jackknife_se(*same, channels, concepts), 0)


def test_empty_masks_and_concepts_score_zero():
    assert iou.iou(np.zeros((2, 2), np.int64), np.zeros(2, np.int64), np.zeros(2, np.int64)).tolist() == \
        [[0, 0], [0, 0]]


def test_detectors_and_unique_detectors_per_category():
    best_iou = np.array([0.01, 0.2, 0.05, 0.04, 0.3, 0.06])
    best = np.array([0, 1, 1, 2, 2, 3])
    found = iou.detectors(best_iou, 0.04)
    assert found.tolist() == [4, 1, 5, 2]  # 0.04 itself is not above the cut
    categories = ["color", "color", "object", "scene"]
    summary = iou.by_category(best, found, categories)
    assert summary == {"color": {"detectors": 2, "unique": 1}, "object": {"detectors": 1, "unique": 1},
                       "scene": {"detectors": 1, "unique": 1}}


def packed(unit, concepts):
    return compose.pack(unit.reshape(-1)), compose.pack(np.moveaxis(concepts, -1, 0).reshape(concepts.shape[-1], -1))


def test_a_formula_is_found_when_one_concept_is_not_enough():
    concepts = squares()
    unit = concepts[..., 0] | concepts[..., 1]            # left OR top
    u, c = packed(unit, concepts)
    single, score1 = compose.explain(u, c, length=1, beam=5)
    assert single.rest == () and score1 < 1
    formula, score = compose.explain(u, c, length=2, beam=5)
    assert np.isclose(score, 1.0)
    assert formula.text(["left", "top", "none"]) in ("left OR top", "top OR left")


def test_and_not_and_length_three():
    concepts = np.concatenate([squares(), np.zeros((3, 8, 8, 1), bool)], axis=-1)
    concepts[:, 6:, 6:, 3] = True                          # concept 3: a bottom-right corner
    unit = (concepts[..., 0] & ~concepts[..., 1]) | concepts[..., 3]  # bottom-left, plus the corner
    u, c = packed(unit, concepts)
    names = ["left", "top", "none", "corner"]
    formula, score = compose.explain(u, c, length=3, beam=5)
    assert np.isclose(score, 1.0), formula.text(names)
    assert formula.text(names) in ("(left AND NOT top) OR corner", "(left OR corner) AND NOT top")  # equal masks
    short, score2 = compose.explain(u, c, length=2, beam=5)
    assert score2 < 1 and len(short.rest) <= 1


def test_packed_counts_match_boolean_counts():
    rng = np.random.default_rng(0)
    bits = rng.random((3, 1001)) < 0.3                      # not a multiple of 8: padding bits stay out
    p = compose.pack(bits)
    assert compose.popcount(p).tolist() == bits.sum(axis=1).tolist()
    assert compose.popcount(p[0] & ~p[1]) == (bits[0] & ~bits[1]).sum()
