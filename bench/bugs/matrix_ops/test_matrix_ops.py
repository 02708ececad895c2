import pytest
from matrix_ops import add, identity, multiply, power, shape, trace, transpose, zeros


def test_zeros_and_shape():
    assert shape(zeros(2, 3)) == (2, 3)


def test_identity():
    assert identity(2) == [[1, 0], [0, 1]]


def test_transpose():
    assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]


def test_add():
    assert add([[1, 2]], [[10, 20]]) == [[11, 22]]


def test_add_shape_mismatch():
    with pytest.raises(ValueError):
        add([[1, 2]], [[1], [2]])


def test_multiply():
    assert multiply([[1, 2], [3, 4]], [[5, 6], [7, 8]]) == [[19, 22], [43, 50]]


def test_multiply_rectangular():
    assert multiply([[1, 2, 3]], [[1], [1], [1]]) == [[6]]


def test_trace():
    assert trace([[1, 2], [3, 4]]) == 5


def test_trace_of_identity():
    assert trace(identity(4)) == 4


def test_trace_non_square():
    with pytest.raises(ValueError):
        trace([[1, 2]])


def test_power():
    assert power([[1, 1], [1, 0]], 5) == [[8, 5], [5, 3]]
    assert power([[2]], 0) == [[1]]
