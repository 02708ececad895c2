import pytest
from quantiles import five_numbers, iqr, outliers, percentile, quartiles


def test_percentile_extremes():
    assert percentile([5, 1, 3], 0) == 1
    assert percentile([5, 1, 3], 100) == 5


def test_percentile_on_a_rank():
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile([1, 2, 3, 4, 5], 25) == 2


def test_percentile_between_ranks():
    assert percentile([1, 2, 3, 4], 50) == 2.5


def test_percentile_interpolates_unevenly():
    assert percentile([10, 20, 30, 40], 10) == 13


def test_percentile_errors():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_quartiles_odd():
    assert quartiles([1, 2, 3, 4, 5, 6, 7, 8, 9]) == (3, 5, 7)


def test_quartiles_even():
    assert quartiles([1, 2, 3, 4, 5, 6]) == (2.25, 3.5, 4.75)


def test_iqr():
    assert iqr([1, 2, 3, 4, 5, 6, 7, 8, 9]) == 4


def test_outliers():
    assert outliers([1, 2, 3, 4, 5, 6, 7, 8, 9, 40]) == [40]


def test_five_numbers():
    assert five_numbers([7, 1, 5, 3, 9]) == (1, 3, 5, 7, 9)
