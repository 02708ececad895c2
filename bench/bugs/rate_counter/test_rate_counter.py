import pytest
from rate_counter import RateCounter, peak


def test_total_within_window():
    counter = RateCounter(10)
    counter.record(0)
    counter.record(3, 2)
    assert counter.total(5) == 3


def test_old_events_expire():
    counter = RateCounter(10)
    counter.record(0)
    counter.record(8)
    assert counter.total(12) == 1


def test_event_expires_at_window_edge():
    counter = RateCounter(5)
    counter.record(1)
    assert counter.total(6) == 0


def test_rate():
    counter = RateCounter(4)
    counter.record(1, 6)
    assert counter.rate(2) == 1.5


def test_rate_after_quiet_period():
    counter = RateCounter(4)
    counter.record(1, 6)
    assert counter.rate(100) == 0


def test_time_going_backwards():
    counter = RateCounter(4)
    counter.record(5)
    with pytest.raises(ValueError):
        counter.record(4)


def test_bad_window():
    with pytest.raises(ValueError):
        RateCounter(0)


def test_last_seen():
    counter = RateCounter(4)
    assert counter.last_seen() is None
    counter.record(7)
    assert counter.last_seen() == 7


def test_peak():
    events = [(0, 1), (1, 1), (2, 1), (20, 1), (21, 4)]
    assert peak(events, 5) == 5
