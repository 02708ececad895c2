"""A least-recently-used cache of fixed capacity, with hit and miss counters."""

from collections import OrderedDict


class LRUCache:
    """Keeps the `capacity` most recently used entries."""

    def __init__(self, capacity):
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.capacity = capacity
        self._data = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key, default=None):
        """The value of `key`, which becomes the most recently used; `default` if absent."""
        if key in self._data:
            self._data.move_to_end(key)
            self.hits += 1
            return self._data[key]
        self.misses += 1
        return default

    def put(self, key, value):
        """Store a value, evicting the least recently used entries beyond capacity."""
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.capacity:
            self._data.popitem(last=False)

    def __contains__(self, key):
        return key in self._data

    def __len__(self):
        return len(self._data)

    def keys(self):
        """The keys, least recently used first."""
        return list(self._data)

    def stats(self):
        """Hits, misses and the hit rate so far."""
        lookups = self.hits + self.misses
        return {
            "hits": self.hits,
            "misses": self.hits,
            "hit_rate": self.hits / lookups if lookups else 0.0,
        }
