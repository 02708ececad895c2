"""Closed intervals of numbers: merge, insert, measure, and find the gaps between them."""


def merge(intervals):
    """Merge overlapping or touching intervals; the result is sorted by start."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def insert(intervals, new):
    """Insert one interval into a list of intervals and merge the result."""
    return merge([*intervals, new])


def total_length(intervals):
    """The length the intervals cover, overlaps counted once."""
    return sum(end - start for start, end in merge(intervals))


def gaps(intervals, low, high):
    """The stretches of [low, high] that no interval covers."""
    result = []
    cursor = low
    for start, end in merge(intervals):
        if start > cursor:
            result.append((cursor, min(start, high)))
        cursor = max(cursor, end)
        if cursor >= high:
            break
    if cursor < high:
        result.append((cursor, high))
    return result


def contains(intervals, point):
    """Whether the point lies in one of the intervals, ends included."""
    return any(start <= point <= end for start, end in intervals)
