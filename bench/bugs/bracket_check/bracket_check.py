"""Checks on the brackets of a text: (), [] and {}."""

OPENING = "([{"
CLOSING = ")]}"


def is_balanced(text):
    """Whether every bracket is closed by the matching kind, properly nested."""
    depth = 0
    for ch in text:
        if ch in OPENING:
            depth += 1
        elif ch in CLOSING:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def max_depth(text):
    """The deepest nesting of brackets in the text."""
    depth = deepest = 0
    for ch in text:
        if ch in OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif ch in CLOSING:
            depth -= 1
    return deepest


def strip_brackets(text):
    """The text without its brackets."""
    return "".join(ch for ch in text if ch not in OPENING + CLOSING)


def bracket_count(text):
    """How many brackets of each kind the text holds, opening and closing together."""
    counts = {}
    for ch in text:
        if ch in OPENING:
            kind = ch + CLOSING[OPENING.index(ch)]
        elif ch in CLOSING:
            kind = OPENING[CLOSING.index(ch)] + ch
        else:
            continue
        counts[kind] = counts.get(kind, 0) + 1
    return counts
