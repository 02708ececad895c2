"""Splitting a list of results into numbered pages (the first page is 1)."""

import math


def page_count(total, per_page):
    """How many pages `total` items fill; at least one, even when empty."""
    if per_page <= 0:
        raise ValueError(f"per_page must be positive, got {per_page}")
    return max(1, math.floor(total / per_page))


def page_bounds(page, per_page):
    """The [start, stop) indexes of a page's items."""
    start = (page - 1) * per_page
    return start, start + per_page


def page_items(items, page, per_page):
    """The items on a page; ValueError for a page that does not exist."""
    if not 1 <= page <= page_count(len(items), per_page):
        raise ValueError(f"no page {page}")
    start, stop = page_bounds(page, per_page)
    return items[start:stop]


def page_of(index, per_page):
    """The page that shows the item at `index`."""
    return index // per_page + 1


def page_links(current, count, radius=2):
    """The page numbers to link around the current page."""
    first = max(1, current - radius)
    last = min(count, current + radius)
    return list(range(first, last + 1))
