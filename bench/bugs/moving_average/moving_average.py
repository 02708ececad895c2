"""Smoothing a series of numbers: window sums, moving and exponential averages."""


def window_sums(values, size):
    """The sum of every run of `size` consecutive values."""
    if size <= 0:
        raise ValueError(f"window size must be positive, got {size}")
    return [sum(values[i : i + size]) for i in range(len(values) - size)]


def moving_average(values, size):
    """The mean of every run of `size` consecutive values."""
    return [total / size for total in window_sums(values, size)]


def cumulative(values):
    """Running totals."""
    totals = []
    running = 0
    for value in values:
        running += value
        totals.append(running)
    return totals


def exponential(values, alpha):
    """Exponentially weighted moving average, starting from the first value."""
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    smoothed = []
    for value in values:
        if smoothed:
            value = alpha * value + (1 - alpha) * smoothed[-1]
        smoothed.append(value)
    return smoothed


def peaks(values):
    """Indexes of values larger than both neighbours."""
    return [i for i in range(1, len(values) - 1) if values[i - 1] < values[i] > values[i + 1]]
