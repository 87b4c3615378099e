"""Tuning statistics on responses with a known answer."""

import numpy as np

from inception_tools.tuning import stats

VALUES = np.arange(0, 360, 15)


def _responses(curves, replicates=6, noise=0.0, seed=0):
    """[primary, 1 secondary, replicates, channels] from curves [primary, channels]."""
    rng = np.random.default_rng(seed)
    base = np.repeat(np.asarray(curves)[:, None, None, :], replicates, axis=2)
    return np.maximum(base + noise * rng.standard_normal(base.shape), 0)


def test_a_tuned_channel_and_a_flat_one():
    tuned = np.exp(3 * (np.cos(np.deg2rad(VALUES - 90)) - 1))
    flat = np.ones(len(VALUES))
    s = stats.channel_stats(_responses(np.column_stack([tuned, flat]), noise=0.02), VALUES, 360.0, bootstrap=100)
    assert s["preferred"][0] == 90 and s["preferred_lo"][0] <= 90 <= s["preferred_hi"][0]
    assert s["circular_variance"][0] < 0.5 and s["circular_variance"][1] > 0.95
    assert s["selectivity"][0] > 3 and abs(s["selectivity"][1] - 1) < 0.1
    assert s["circular_variance_lo"][0] <= s["circular_variance"][0] <= s["circular_variance_hi"][0]
    assert np.isnan(s["peak_relative"]).all()


def test_the_best_secondary_value_is_read():
    responses = np.zeros((len(VALUES), 3, 4, 1))
    responses[5, 2, :, 0] = 2.0
    responses[:, 0, :, 0] = 1.0
    s = stats.channel_stats(responses, VALUES, 360.0, natural_p99=np.array([4.0]), bootstrap=10)
    assert s["best_secondary"][0] == 2 and s["preferred"][0] == 75 and s["peak_relative"][0] == 0.5
    assert s["circular_variance"][0] < 1e-9


def test_silent_channels_have_no_statistics_and_are_not_selective():
    s = stats.channel_stats(np.zeros((len(VALUES), 1, 3, 2)), VALUES, 360.0, bootstrap=10)
    assert np.isnan(s["circular_variance"]).all() and np.isnan(s["selectivity"]).all()
    assert not stats.selective(s, 0.5, 0.25).any()


def test_selective_needs_a_tight_interval_and_a_strong_peak():
    s = {"circular_variance_hi": np.array([0.3, 0.3, 0.7]), "peak": np.array([1.0, 0.1, 1.0]),
         "peak_relative": np.array([1.0, 0.1, 1.0])}
    assert stats.selective(s, 0.5, 0.25).tolist() == [True, False, False]
    s["peak_relative"] = np.full(3, np.nan)  # without natural images: any response
    assert stats.selective(s, 0.5, 0.25).tolist() == [True, True, False]


def test_coverage_of_the_circle():
    found = stats.coverage([10, 100, 190, 280], 360.0)
    assert found["covered"] == 4 and found["largest_gap"] == 90
    assert stats.coverage([], 360.0)["largest_gap"] == 360
    assert stats.wrapped(350 - 10, 360.0) == -20


def test_without_resamples_the_interval_is_the_estimate():
    responses = np.zeros((len(VALUES), 1, 2, 1))
    responses[20, 0, :, 0] = 1.0
    s = stats.channel_stats(responses, VALUES, 360.0, bootstrap=0)
    assert s["preferred"][0] == s["preferred_lo"][0] == s["preferred_hi"][0] == 300
