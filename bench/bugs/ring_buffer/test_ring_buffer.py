import pytest
from ring_buffer import RingBuffer


def filled(capacity, items):
    ring = RingBuffer(capacity)
    for item in items:
        ring.push(item)
    return ring


def test_bad_capacity():
    with pytest.raises(ValueError):
        RingBuffer(0)


def test_len_and_full():
    ring = filled(3, "ab")
    assert len(ring) == 2
    assert not ring.is_full()
    ring.push("c")
    assert ring.is_full()


def test_oldest_after_overwrite():
    ring = filled(3, "abcde")
    assert len(ring) == 3
    assert ring.oldest() == "c"


def test_oldest_of_empty():
    with pytest.raises(IndexError):
        RingBuffer(2).oldest()


def test_to_list():
    assert filled(4, "abc").to_list() == ["a", "b", "c"]


def test_to_list_after_overwrite():
    assert filled(3, "abcde").to_list() == ["c", "d", "e"]


def test_latest():
    assert filled(5, "abcd").latest(2) == ["c", "d"]


def test_pop_oldest_first():
    ring = filled(3, "abcd")
    assert [ring.pop(), ring.pop()] == ["b", "c"]
    assert len(ring) == 1


def test_pop_then_push():
    ring = filled(2, "ab")
    ring.pop()
    ring.push("c")
    assert ring.oldest() == "b"
    assert len(ring) == 2


def test_pop_empty():
    with pytest.raises(IndexError):
        RingBuffer(2).pop()
