import pytest
from min_heap import MinHeap, heapsort, smallest


def test_push_and_peek():
    heap = MinHeap()
    for item in (5, 3, 8):
        heap.push(item)
    assert heap.peek() == 3
    assert len(heap) == 3


def test_pop_single():
    heap = MinHeap([4])
    assert heap.pop() == 4
    assert len(heap) == 0


def test_pop_two():
    heap = MinHeap([9, 2])
    assert [heap.pop(), heap.pop()] == [2, 9]


def test_pop_empty():
    with pytest.raises(IndexError):
        MinHeap().pop()


def test_peek_empty():
    with pytest.raises(IndexError):
        MinHeap().peek()


def test_pop_order():
    heap = MinHeap([5, 1, 4, 2, 3])
    assert [heap.pop() for _ in range(5)] == [1, 2, 3, 4, 5]


def test_heapsort():
    assert heapsort([7, 2, 9, 2, 0, 11, 4, 6]) == [0, 2, 2, 4, 6, 7, 9, 11]


def test_smallest():
    assert smallest([10, 4, 8, 1, 7, 3], 3) == [1, 3, 4]


def test_smallest_more_than_available():
    assert smallest([2, 1], 5) == [1, 2]
