import pytest
from paginator import page_bounds, page_count, page_items, page_links, page_of


def test_page_count_exact():
    assert page_count(10, 5) == 2


def test_page_count_partial_last_page():
    assert page_count(11, 5) == 3


def test_page_count_empty():
    assert page_count(0, 5) == 1


def test_page_count_bad_size():
    with pytest.raises(ValueError):
        page_count(10, 0)


def test_page_bounds():
    assert page_bounds(3, 10) == (20, 30)


def test_page_items():
    assert page_items(list(range(10)), 2, 4) == [4, 5, 6, 7]


def test_page_items_last_partial_page():
    assert page_items(list(range(10)), 3, 4) == [8, 9]


def test_page_items_missing_page():
    with pytest.raises(ValueError):
        page_items(list(range(10)), 4, 4)


def test_page_of():
    assert page_of(0, 10) == 1
    assert page_of(19, 10) == 2


def test_page_links():
    assert page_links(1, 10) == [1, 2, 3]
    assert page_links(5, 6) == [3, 4, 5, 6]
