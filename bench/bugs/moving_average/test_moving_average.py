import pytest
from moving_average import cumulative, exponential, moving_average, peaks, window_sums


def test_window_sums():
    assert window_sums([1, 2, 3, 4], 2) == [3, 5, 7]


def test_window_sums_whole_series():
    assert window_sums([1, 2, 3], 3) == [6]


def test_window_longer_than_series():
    assert window_sums([1, 2], 3) == []


def test_bad_window():
    with pytest.raises(ValueError):
        window_sums([1, 2], 0)


def test_moving_average():
    assert moving_average([2, 4, 6, 8], 2) == [3.0, 5.0, 7.0]


def test_cumulative():
    assert cumulative([1, 2, 3]) == [1, 3, 6]
    assert cumulative([]) == []


def test_exponential():
    assert exponential([10, 20, 20], 0.5) == [10, 15.0, 17.5]


def test_exponential_bad_alpha():
    with pytest.raises(ValueError):
        exponential([1], 0)


def test_peaks():
    assert peaks([1, 3, 2, 2, 5, 4, 6]) == [1, 4]
