import math

import pytest
from stats_utils import mean, median, normalize, stdev, variance, zscore

DATA = [2, 4, 4, 4, 5, 5, 7, 9]


def test_mean():
    assert mean(DATA) == 5


def test_mean_empty():
    with pytest.raises(ValueError):
        mean([])


def test_median_even_and_odd():
    assert median(DATA) == 4.5
    assert median([3, 1, 2]) == 2


def test_variance_and_stdev():
    assert variance(DATA) == 4
    assert stdev(DATA) == 2


def test_zscore():
    assert zscore(9, DATA) == 2
    assert zscore(4, DATA) == -0.5


def test_zscore_of_mean_is_zero():
    assert zscore(5, DATA) == 0


def test_zscore_constant_data():
    with pytest.raises(ValueError):
        zscore(1, [3, 3, 3])


def test_zscore_small_sample():
    assert math.isclose(zscore(3, [1, 3]), 1.0)


def test_normalize():
    assert normalize([10, 20, 15]) == [0.0, 1.0, 0.5]
    assert normalize([4, 4]) == [0.0, 0.0]
