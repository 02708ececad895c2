import math

import pytest
from geometry import area, bounding_box, centroid, contains, distance, perimeter

SQUARE = [(0, 0), (2, 0), (2, 2), (0, 2)]


def test_distance_along_an_axis():
    assert distance((1, 1), (4, 1)) == 3


def test_distance_diagonal():
    assert distance((0, 0), (3, 4)) == 5


def test_perimeter_of_triangle():
    assert math.isclose(perimeter([(0, 0), (3, 0), (3, 4)]), 12)


def test_area():
    assert area(SQUARE) == 4
    assert area(list(reversed(SQUARE))) == 4


def test_area_of_triangle():
    assert area([(0, 0), (4, 0), (0, 3)]) == 6


def test_centroid():
    assert centroid(SQUARE) == (1, 1)


def test_centroid_of_nothing():
    with pytest.raises(ValueError):
        centroid([])


def test_bounding_box():
    assert bounding_box([(3, -1), (0, 4), (2, 2)]) == (0, -1, 3, 4)


def test_contains_inside():
    assert contains((0, 0, 2, 2), (1, 1))
    assert not contains((0, 0, 2, 2), (3, 1))


def test_contains_on_edges():
    assert contains((0, 0, 2, 2), (2, 1))
    assert contains((0, 0, 2, 2), (1, 2))


def test_contains_corner():
    assert contains(bounding_box(SQUARE), (2, 2))
