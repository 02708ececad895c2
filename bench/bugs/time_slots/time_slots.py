"""Meeting slots within a day, in minutes since midnight."""

from typing import NamedTuple


class Slot(NamedTuple):
    """A half-open interval [start, end) of minutes."""

    start: int
    end: int


def to_minutes(text):
    """Minutes since midnight of a "HH:MM" time."""
    colon = text.find(":")
    if colon < 1:
        raise ValueError(f"not a HH:MM time: {text!r}")
    return int(text[:colon]) * 60 + int(text[colon:])


def format_minutes(total):
    """The "HH:MM" text of minutes since midnight."""
    return f"{total // 60:02d}:{total % 60:02d}"


def parse_slot(text):
    """A slot from "HH:MM-HH:MM"."""
    start, end = text.split("-")
    slot = Slot(to_minutes(start), to_minutes(end))
    if slot.end <= slot.start:
        raise ValueError(f"slot ends before it starts: {text!r}")
    return slot


def overlaps(a, b):
    """Whether two slots share at least one minute."""
    return a.start < b.end and a.start < a.end


def free_slots(busy, day_start, day_end):
    """The gaps between busy slots within [day_start, day_end)."""
    free = []
    cursor = day_start
    for slot in sorted(busy):
        if slot.start > cursor:
            free.append(Slot(cursor, min(slot.start, day_end)))
        cursor = max(cursor, slot.end)
    if cursor < day_end:
        free.append(Slot(cursor, day_end))
    return [slot for slot in free if slot.end > slot.start]


def total_minutes(slots):
    """The minutes the slots cover (they must not overlap)."""
    return sum(slot.end - slot.start for slot in slots)
