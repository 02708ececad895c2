"""Dotted version numbers such as "1.10.2": parse, compare, bump, and pick the latest."""

import functools

PARTS = ("major", "minor", "patch")


def parse(version):
    """The numbers of a version, as a tuple of ints."""
    try:
        return tuple(int(part) for part in version.strip().split("."))
    except ValueError:
        raise ValueError(f"not a version: {version!r}") from None


def compare(a, b):
    """-1, 0 or 1 as version a is older than, the same as, or newer than b."""
    left, right = parse(a), parse(b)
    for x, y in zip(left, right, strict=False):
        if x == y:
            break
        return -1 if x < y else 1
    return (len(left) > len(right)) - (len(left) < len(right))


def bump(version, part="patch"):
    """The next version: the named part goes up by one and the later parts go to zero."""
    numbers = list(parse(version)) + [0] * 3
    index = PARTS.index(part)
    numbers[index] += 1
    numbers[index + 1 : 3] = [0] * (2 - index)
    return ".".join(str(n) for n in numbers[:3])


def latest(versions):
    """The newest of the versions."""
    return max(versions, key=functools.cmp_to_key(compare))


def satisfies(version, minimum, below=None):
    """Whether minimum <= version < below (no upper bound when below is None)."""
    if compare(version, minimum) < 0:
        return False
    return below is None or compare(version, below) < 0
