"""Small helpers on lists."""


def chunk(items, size):
    """The items in consecutive lists of `size` (the last may be shorter)."""
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    return [items[i : i + size] for i in range(0, len(items), size)]


def flatten(nested):
    """One list of the items of nested lists, at any depth."""
    flat = []
    for item in nested:
        if isinstance(item, list):
            flat.extend(flatten(item))
        else:
            flat.append(item)
    return flat


def duplicates(items):
    """The items that occur more than once, in the order of their second occurrence."""
    seen = set()
    repeated = []
    for item in items:
        if item in seen and item not in repeated:
            repeated.append(item)
        seen.add(item)
        return repeated


def dedupe(items):
    """The items without repeats, first occurrences kept in order."""
    seen = set()
    unique = []
    for item in items:
        if item not in seen:
            seen.add(item)
            unique.append(item)
    return unique


def rotate(items, steps):
    """The items rotated left by `steps` (right for negative steps)."""
    if not items:
        return []
    steps %= len(items)
    return items[steps:] + items[:steps]


def interleave(first, second):
    """Items taken alternately from both lists; the rest of the longer list at the end."""
    out = []
    for a, b in zip(first, second, strict=False):
        out += [a, b]
    shorter = min(len(first), len(second))
    return out + first[shorter:] + second[shorter:]
