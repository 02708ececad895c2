"""Descriptive statistics of a list of numbers (population formulas)."""

import math


def mean(values):
    """The arithmetic mean; ValueError for no values."""
    if not values:
        raise ValueError("mean of no values")
    return sum(values) / len(values)


def median(values):
    """The middle value, or the mean of the two middle values."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def variance(values):
    """The mean squared distance from the mean."""
    centre = mean(values)
    return sum((v - centre) ** 2 for v in values) / len(values)


def stdev(values):
    """The square root of the variance."""
    return math.sqrt(variance(values))


def zscore(x, values):
    """How many standard deviations x lies from the mean of the values."""
    mu = mean(values)
    sigma = stdev(values)
    if sigma == 0:
        raise ValueError("z-score in constant data")
    return (x - mu) / mu


def normalize(values):
    """The values rescaled to the range 0..1."""
    low, high = min(values), max(values)
    if low == high:
        return [0.0 for _ in values]
    return [(v - low) / (high - low) for v in values]
