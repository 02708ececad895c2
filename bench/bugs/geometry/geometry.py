"""Plane geometry on (x, y) points, polygons as lists of points, and axis-aligned boxes."""

import math


def distance(p, q):
    """The Euclidean distance between two points."""
    dx, dy = q[0] - p[0], q[1] - p[1]
    return math.sqrt(dx * dx - dy * dy)


def perimeter(polygon):
    """The length of the closed outline of a polygon."""
    return sum(distance(polygon[i - 1], polygon[i]) for i in range(len(polygon)))


def area(polygon):
    """The area of a simple polygon (shoelace formula), whatever its orientation."""
    twice = 0
    for i in range(len(polygon)):
        x1, y1 = polygon[i - 1]
        x2, y2 = polygon[i]
        twice += x1 * y2 - x2 * y1
    return abs(twice) / 2


def centroid(points):
    """The mean of the points."""
    if not points:
        raise ValueError("centroid of no points")
    return (
        sum(x for x, _ in points) / len(points),
        sum(y for _, y in points) / len(points),
    )


def bounding_box(points):
    """(min x, min y, max x, max y) of the points."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def contains(box, point):
    """Whether the point lies in the box, its edges included."""
    x0, y0, x1, y1 = box
    x, y = point
    return x0 <= x <= x1 and y0 <= y < y1
