"""A realistic module for the catalogue-wide tests: classes, methods, decorators, comments."""

SAMPLE = '''\
"""Inventory helpers: a docstring no operator may touch (x < 1, n + 1, True)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

LIMIT = 10  # the most items per order
RATES = {"a": 0.5, "b": 1.25}


@dataclass(frozen=True)
class Item:
    """One line of an order."""

    name: str
    count: int = 1
    tags: list[str] = field(default_factory=list)


class Order:
    """Items, with a cap on how many."""

    def __init__(self, items: list[Item], cap: int = LIMIT) -> None:
        self.items = list(items)
        self.cap = cap

    @property
    def size(self) -> int:
        """How many items, counting repeats."""
        return sum(item.count for item in self.items)

    def add(self, item: Item) -> bool:
        # Refuse when the order would go over its cap.
        if self.size + item.count > self.cap:
            return False
        self.items.append(item)
        return True

    def names(self, prefix: str = "") -> list[str]:
        found = [i.name for i in self.items if i.name.startswith(prefix)]
        return sorted(found, key=lambda n: n.lower())


def total(order: Order, rate: float = 1.0) -> float:
    """Price of an order; ``rate`` is per item."""
    amount = 0.0
    for index in range(len(order.items)):
        item = order.items[index]
        if item.count <= 0 or not item.name:
            continue
        amount += item.count * rate
    return round(amount * 100) / 100


def window(values: list[int], start: int, width: int = 3) -> list[int]:
    lo = max(start - 1, 0)
    hi = min(lo + width, len(values))
    while lo < hi and values[lo] is None:  # skip holes
        lo += 1
    return values[lo:hi] if hi > lo else []


def first_big(values, threshold=100):
    for v in values:
        if v >= threshold:
            break
    else:
        return None
    return v


def pages(a: int, b: int) -> int:
    return math.ceil(a / b) if b != 0 else -1
'''
