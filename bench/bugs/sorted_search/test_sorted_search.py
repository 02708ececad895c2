import pytest
from sorted_search import between, bisect_left, bisect_right, contains, count, nearest

ITEMS = [1, 3, 3, 3, 7, 9, 12]


def test_bisect_left():
    assert bisect_left(ITEMS, 3) == 1
    assert bisect_left(ITEMS, 0) == 0
    assert bisect_left(ITEMS, 13) == 7


def test_bisect_right():
    assert bisect_right(ITEMS, 3) == 4
    assert bisect_right(ITEMS, 12) == 7


def test_contains():
    assert contains(ITEMS, 7)
    assert not contains(ITEMS, 8)
    assert not contains([], 1)


def test_count():
    assert count(ITEMS, 3) == 3
    assert count(ITEMS, 4) == 0


def test_between_inner():
    assert between(ITEMS, 2, 8) == [3, 3, 3, 7]


def test_between_includes_ends():
    assert between(ITEMS, 3, 9) == [3, 3, 3, 7, 9]


def test_between_single_value():
    assert between(ITEMS, 12, 12) == [12]


def test_nearest():
    assert nearest(ITEMS, 8) == 7
    assert nearest(ITEMS, 11) == 12
    assert nearest(ITEMS, 100) == 12
    assert nearest(ITEMS, -5) == 1


def test_nearest_empty():
    with pytest.raises(ValueError):
        nearest([], 1)
