import pytest
from lru_cache import LRUCache


def test_get_and_put():
    cache = LRUCache(2)
    cache.put("a", 1)
    assert cache.get("a") == 1
    assert cache.get("b", "none") == "none"


def test_eviction_of_least_recent():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    assert "b" not in cache
    assert cache.keys() == ["a", "c"]


def test_put_existing_refreshes():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]
    assert cache.get("a") == 10


def test_len():
    cache = LRUCache(3)
    for key in "abcde":
        cache.put(key, key)
    assert len(cache) == 3


def test_bad_capacity():
    with pytest.raises(ValueError):
        LRUCache(0)


def test_stats_hits():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.get("a")
    cache.get("a")
    assert cache.stats()["hits"] == 2


def test_stats_misses():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.get("a")
    cache.get("x")
    cache.get("y")
    assert cache.stats() == {"hits": 1, "misses": 2, "hit_rate": 1 / 3}


def test_stats_empty():
    assert LRUCache(1).stats() == {"hits": 0, "misses": 0, "hit_rate": 0.0}
