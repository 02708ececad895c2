"""Percentiles, quartiles and outliers of a sample, interpolating between ranks."""


def percentile(values, p):
    """The p-th percentile (0 to 100), linear between the two nearest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile out of range: {p}")
    ordered = sorted(values)
    index = round(p / 100 * (len(ordered) - 1))
    return ordered[index]


def quartiles(values):
    """The 25th, 50th and 75th percentiles."""
    return tuple(percentile(values, p) for p in (25, 50, 75))


def iqr(values):
    """The interquartile range."""
    low, _, high = quartiles(values)
    return high - low


def outliers(values, k=1.5):
    """The values more than k IQRs outside the quartiles, in their order."""
    low, _, high = quartiles(values)
    spread = high - low
    return [v for v in values if v < low - k * spread or v > high + k * spread]


def five_numbers(values):
    """Minimum, quartiles and maximum."""
    low, middle, high = quartiles(values)
    return min(values), low, middle, high, max(values)
