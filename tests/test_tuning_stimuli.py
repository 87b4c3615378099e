"""Stimulus generators: shapes, ranges, rotation, seeding."""

import numpy as np
import pytest

from inception_tools.errors import UserError
from inception_tools.tuning import stimuli

SHAPE = (64, 64, 3)


@pytest.mark.parametrize("name, secondary", [("curve", 0.2), ("line", "thin"), ("line", "edge"), ("grating", 8)])
def test_turning_the_orientation_by_90_degrees_rotates_the_image(name, secondary):
    fam = stimuli.family(name)
    for angle in (0, 30):
        a = stimuli.draw(fam, SHAPE, angle, secondary)
        b = stimuli.draw(fam, SHAPE, angle + 90, secondary)
        np.testing.assert_allclose(np.rot90(a), b, atol=1e-5)
        assert np.abs(a - b).max() >= 0.5  # and the orientation matters


def test_a_curve_opens_towards_its_orientation():
    fam = stimuli.family("curve")
    ink = 1 - stimuli.draw(fam, SHAPE, 0, 0.2)[..., 0]
    cols = np.nonzero(ink.sum(axis=0) > 0.5)[0]
    centre = (SHAPE[1] - 1) / 2
    assert cols.min() >= centre - 1 and cols.max() > centre + 4  # the arc bulges to the left of its ends, at x >= 0


def test_orientation_period():
    line = stimuli.family("line")
    np.testing.assert_allclose(stimuli.draw(line, SHAPE, 10, "thick"), stimuli.draw(line, SHAPE, 190, "thick"),
                               atol=1e-6)
    curve = stimuli.family("curve")
    assert np.abs(stimuli.draw(curve, SHAPE, 10, 0.2) - stimuli.draw(curve, SHAPE, 190, 0.2)).max() > 0.5


def test_colour_patches_have_the_hue():
    fam = stimuli.family("color")
    centre = stimuli.draw(fam, SHAPE, 120, 1.0)[32, 32]
    np.testing.assert_allclose(centre, [0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(stimuli.draw(fam, SHAPE, 0, 1.0)[0, 0], [0.5, 0.5, 0.5])


def test_the_set_is_seeded_and_replicate_zero_is_centred():
    fam = stimuli.family("curve")
    first = stimuli.stimuli(fam, SHAPE, 3, 4.0, seed=0)
    assert first.shape == (24 * 3 * 3, 64, 64, 3) and first.dtype == np.float32
    assert 0 <= first.min() and first.max() <= 1
    np.testing.assert_array_equal(first, stimuli.stimuli(fam, SHAPE, 3, 4.0, seed=0))
    other = stimuli.stimuli(fam, SHAPE, 3, 4.0, seed=1)
    np.testing.assert_array_equal(first[::3], other[::3])  # replicate 0: no jitter whatever the seed
    assert np.abs(first[1::3] - other[1::3]).max() > 0.5
    np.testing.assert_array_equal(first[0], stimuli.draw(fam, SHAPE, 0, 0.1))
    np.testing.assert_array_equal(stimuli.stimuli(fam, SHAPE, 3, 4.0, 0, 5, 9), first[5:9])


def test_jitter_is_bounded():
    shifts = stimuli.jitters(50, 3.0, seed=2)
    assert np.all(shifts[0] == 0) and np.abs(shifts[:, :2]).max() <= 3.0
    assert np.all((0 <= shifts[:, 2]) & (shifts[:, 2] < 2 * np.pi))


def test_unknown_family():
    with pytest.raises(UserError, match="unknown stimulus 'blob'; stimuli: curve, line, grating, color"):
        stimuli.family("blob")


def test_a_given_centre_moves_the_stimulus():
    fam = stimuli.family("color")
    moved = stimuli.draw(fam, SHAPE, 0, 1.0, centre=(40.5, 20.5))
    np.testing.assert_allclose(moved[40, 20], [1, 0, 0])
    np.testing.assert_allclose(moved[5, 60], [0.5] * 3)
    centred = stimuli.draw(fam, SHAPE, 0, 1.0)
    np.testing.assert_array_equal(moved[9:, :53], centred[:-9, 11:])
