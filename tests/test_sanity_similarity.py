"""The similarity measures of the sanity checks and their intervals."""

import numpy as np

from inception_tools.sanity import similarity


def smooth_map(seed, size=56):
    """Independent smooth noise: maps of different seeds are unrelated."""
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(np.random.default_rng(seed).normal(size=(size, size)), 2)


def test_a_map_is_fully_similar_to_itself_and_its_absolute_ranking_ignores_sign():
    a = smooth_map(0)
    assert np.allclose(similarity.measures(a, a), 1)
    negated = similarity.measures(a, -a)
    assert np.isclose(negated[0], 1) and np.isclose(negated[1], -1)  # spearman_abs, spearman
    assert np.isclose(negated[2], 1) and np.isclose(negated[3], 1)  # SSIM and HOG take |map|


def test_unrelated_maps_score_low_and_constant_maps_zero():
    a, b = smooth_map(0), smooth_map(1)
    assert np.all(np.abs(similarity.measures(a, b)[[0, 1, 3]]) < 0.3)
    flat = similarity.measures(a, np.zeros_like(a))
    assert flat[0] == 0 and flat[1] == 0 and flat[3] == 0


def test_compare_and_interval_shapes():
    reference = np.stack([np.stack([smooth_map(i) for i in range(5)])] * 2)  # [2 methods, 5 images, H, W]
    other = reference.copy()
    other[1] = np.stack([smooth_map(10 + i) for i in range(5)])
    sims = similarity.compare(reference, other)
    assert sims.shape == (2, len(similarity.MEASURES), 5)
    mean, lo, hi = similarity.interval(sims)
    assert mean.shape == lo.shape == (2, 4)
    assert np.allclose(mean[0], 1) and np.all(lo <= mean + 1e-9) and np.all(mean <= hi + 1e-9)
    assert mean[1, 0] < 0.5
