import pytest
from list_utils import chunk, dedupe, duplicates, flatten, interleave, rotate


def test_chunk():
    assert chunk([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]


def test_chunk_bad_size():
    with pytest.raises(ValueError):
        chunk([1], 0)


def test_flatten():
    assert flatten([1, [2, [3, 4]], [], 5]) == [1, 2, 3, 4, 5]


def test_duplicates():
    assert duplicates([3, 1, 3, 2, 1, 3]) == [3, 1]


def test_duplicates_none():
    assert duplicates(["a", "b"]) == []


def test_duplicates_empty():
    assert duplicates([]) == []


def test_dedupe():
    assert dedupe([3, 1, 3, 2, 1]) == [3, 1, 2]


def test_rotate():
    assert rotate([1, 2, 3, 4], 1) == [2, 3, 4, 1]
    assert rotate([1, 2, 3, 4], -1) == [4, 1, 2, 3]
    assert rotate([], 3) == []


def test_interleave():
    assert interleave([1, 2, 3], ["a"]) == [1, "a", 2, 3]
