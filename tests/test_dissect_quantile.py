"""The streaming two-pass quantile against np.quantile on data that fits in memory."""

import numpy as np
import pytest

from inception_tools.dissect.quantile import DoublingHistogram, Refinement


def streamed(values, q, batch, bins=1024):
    hist = DoublingHistogram(values.shape[1], bins)
    for start in range(0, len(values), batch):
        hist.update(values[start:start + batch])
    refine = hist.bracket(q)
    for start in range(0, len(values), batch):
        refine.update(values[start:start + batch])
    return refine.thresholds()


def relu_data(seed=0, n=200_000):
    rng = np.random.default_rng(seed)
    growing = np.linspace(0.01, 1, n)[:, None]  # later values larger: the range must double many times
    columns = [
        np.maximum(rng.normal(size=n), 0),                       # half zeros
        rng.exponential(3.0, n) * growing[:, 0],                 # heavy tail, growing
        np.maximum(rng.normal(-2.6, 1, n), 0),                   # 99.5% quantile near the zeros
        np.zeros(n),                                             # a dead channel
        np.where(rng.random(n) < 0.997, 0.0, rng.random(n)),     # more than 99.5% zeros: threshold 0
        np.round(rng.random(n) * 4) / 4,                         # ties and exact powers of two
        rng.lognormal(2, 2, n),                                  # values over many octaves
    ]
    return np.stack(columns, axis=1).astype(np.float32)


@pytest.mark.parametrize("q", [0.005, 0.05, 0.5])
def test_thresholds_match_np_quantile_within_their_error_bound(q):
    values = relu_data()
    found, bound = streamed(values, q, batch=3000)
    exact = np.quantile(values.astype(np.float64), 1 - q, axis=0)
    assert np.all(np.abs(found - exact) <= bound + 1e-12 * np.abs(exact)), (found, exact, bound)
    # the bound is tiny: a few millionths of the largest value (top <= 2 max, a bracket of one or two bins)
    assert np.all(bound <= 4 * values.max(axis=0) / 1024 ** 2)


def test_zeros_give_an_exact_zero_threshold():
    values = relu_data()
    found, bound = streamed(values, 0.005, batch=7919)
    assert found[3] == 0 and bound[3] == 0
    assert found[4] == 0 and bound[4] == 0
    exact = np.quantile(values[:, 4], 0.995)
    assert exact == 0


def test_batch_size_does_not_change_the_thresholds():
    values = relu_data(seed=1, n=50_000)
    one = streamed(values, 0.005, batch=50_000)
    many = streamed(values, 0.005, batch=997)
    assert np.array_equal(one[0], many[0]) and np.array_equal(one[1], many[1])


def test_doubling_merges_bins_exactly():
    hist = DoublingHistogram(1, bins=8)
    hist.update(np.array([[0.1], [0.3], [0.9], [0.0]], np.float32))
    assert hist.top[0] == 1.0 and hist.hist[0].tolist() == [1, 0, 1, 0, 0, 0, 0, 1] and hist.below[0] == 1
    hist.update(np.array([[3.5]], np.float32))  # top 1 -> 4: bins of width 0.5, pairs of pairs summed
    assert hist.top[0] == 4.0 and hist.hist[0].tolist() == [2, 1, 0, 0, 0, 0, 0, 1]
    fresh = DoublingHistogram(1, bins=8)
    fresh.update(np.array([[0.1], [0.3], [0.9], [0.0], [3.5]], np.float32))
    assert fresh.hist[0].tolist() == hist.hist[0].tolist()


def test_state_round_trips_for_checkpoints():
    values = relu_data(seed=2, n=20_000)
    hist = DoublingHistogram(values.shape[1])
    hist.update(values[:10_000])
    again = DoublingHistogram.from_state(hist.state())
    hist.update(values[10_000:])
    again.update(values[10_000:])
    refine = hist.bracket(0.005)
    refine.update(values[:5000])
    restored = Refinement.from_state(refine.state())
    refine.update(values[5000:])
    restored.update(values[5000:])
    assert np.array_equal(refine.thresholds()[0], restored.thresholds()[0])
    assert np.array_equal(again.hist, hist.hist)


def test_bins_must_be_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        DoublingHistogram(3, bins=1000)
