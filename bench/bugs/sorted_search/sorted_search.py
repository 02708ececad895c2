"""Binary search over a sorted list."""


def bisect_left(items, x):
    """The first index where x could be inserted keeping the list sorted."""
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def bisect_right(items, x):
    """The index after the last item equal to x."""
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def contains(items, x):
    """Whether x is in the sorted list."""
    i = bisect_left(items, x)
    return i < len(items) and items[i] == x


def count(items, x):
    """How many times x occurs."""
    return bisect_right(items, x) - bisect_left(items, x)


def between(items, low, high):
    """The items from low to high, both ends included."""
    return items[bisect_left(items, low) : bisect_left(items, high)]


def nearest(items, x):
    """The item closest to x; the smaller one on a tie."""
    if not items:
        raise ValueError("no items")
    i = bisect_left(items, x)
    if i == 0:
        return items[0]
    if i == len(items):
        return items[-1]
    before, after = items[i - 1], items[i]
    return before if x - before <= after - x else after
