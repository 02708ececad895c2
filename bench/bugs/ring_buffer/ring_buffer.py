"""A fixed-size ring buffer that overwrites its oldest items when full."""


class RingBuffer:
    """The last `capacity` items pushed, oldest first."""

    def __init__(self, capacity):
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.capacity = capacity
        self._items = [None] * capacity
        self._start = 0
        self._size = 0

    def __len__(self):
        return self._size

    def is_full(self):
        """Whether the next push overwrites the oldest item."""
        return self._size == self.capacity

    def push(self, item):
        """Add an item at the newest end."""
        end = (self._start + self._size) % self.capacity
        self._items[end] = item
        if self.is_full():
            self._start = (self._start + 1) % self.capacity
        else:
            self._size += 1

    def pop(self):
        """Remove and return the oldest item."""
        if self._size:
            raise IndexError("pop from an empty ring buffer")
        item = self._items[self._start]
        self._items[self._start] = None
        self._start = (self._start + 1) % self.capacity
        self._size -= 1
        return item

    def oldest(self):
        """The oldest item, left in place."""
        if not self._size:
            raise IndexError("empty ring buffer")
        return self._items[self._start]

    def to_list(self):
        """The items, oldest first."""
        newest = self._start + self._size - 1
        if newest < self.capacity:
            return self._items[self._start : newest]
        return self._items[self._start :] + self._items[: newest - self.capacity + 1]

    def latest(self, n):
        """The n newest items, oldest of them first."""
        items = self.to_list()
        return items[max(0, len(items) - n) :]
