import pytest
from alpha.ratelimit import SlidingWindowLog, TokenBucket, parse_rate

# parse_rate


def test_parse_rate_per_minute():
    assert parse_rate("100/min") == (100, 60.0)


def test_parse_rate_long_units_multipliers_and_spaces():
    assert parse_rate("5 / 10s") == (5, 10.0)
    assert parse_rate("1000/hour") == (1000, 3600.0)
    assert parse_rate("3/2 days") == (3, 172800.0)
    assert parse_rate("90/1.5h") == (90, 5400.0)


def test_parse_rate_rejects_malformed_or_non_positive_rates():
    for spec in ("abc", "100", "100/fortnight", "x/min", "0/min", "-1/min", "5/0s", "5/"):
        with pytest.raises(ValueError):
            parse_rate(spec)


# TokenBucket


def test_new_bucket_is_full():
    bucket = TokenBucket(capacity=5, rate=1, now=0.0)
    assert bucket.available(0.0) == 5.0


def test_burst_up_to_capacity_is_allowed():
    bucket = TokenBucket(capacity=5, rate=1)
    assert [bucket.try_acquire(0.0) for _ in range(6)] == [True] * 5 + [False]


def test_bucket_refills_at_its_rate():
    bucket = TokenBucket(capacity=10, rate=2)
    assert bucket.try_acquire(0.0, cost=4)
    assert bucket.try_acquire(0.0, cost=4)
    assert bucket.available(0.0) == pytest.approx(2.0)
    assert bucket.available(1.5) == pytest.approx(5.0)


def test_refill_never_exceeds_capacity():
    bucket = TokenBucket(capacity=3, rate=10)
    assert bucket.try_acquire(0.0, cost=2)
    assert bucket.available(1000.0) == 3.0


def test_refused_request_takes_no_tokens():
    bucket = TokenBucket(capacity=3, rate=1)
    assert bucket.try_acquire(0.0, cost=2)
    assert not bucket.try_acquire(0.0, cost=2)
    assert bucket.available(0.0) == pytest.approx(1.0)


def test_exact_tokens_suffice_after_refill():
    bucket = TokenBucket(capacity=2, rate=1)
    assert bucket.try_acquire(0.0, cost=1.5)
    # Half a second later the bucket holds exactly one token: enough for a request of one.
    assert bucket.try_acquire(0.5, cost=1)
    assert not bucket.try_acquire(0.5, cost=0.25)


def test_wait_time_until_enough_tokens():
    bucket = TokenBucket(capacity=4, rate=2)
    assert bucket.try_acquire(0.0, cost=3)
    assert bucket.wait_time(0.0, cost=3) == pytest.approx(1.0)
    assert bucket.wait_time(0.0, cost=1) == 0.0
    assert bucket.wait_time(0.25, cost=3) == pytest.approx(0.75)


def test_cost_above_capacity_is_an_error():
    bucket = TokenBucket(capacity=2, rate=1)
    with pytest.raises(ValueError):
        bucket.try_acquire(0.0, cost=3)


def test_clock_stepping_backwards_changes_nothing():
    bucket = TokenBucket(capacity=4, rate=1, now=10.0)
    assert bucket.try_acquire(10.0, cost=2)
    assert bucket.available(5.0) == pytest.approx(2.0)
    assert bucket.available(11.0) == pytest.approx(3.0)


def test_bucket_from_rate_string():
    bucket = TokenBucket.from_rate("60/min", now=0.0)
    assert bucket.capacity == 60.0
    assert bucket.rate == pytest.approx(1.0)


# SlidingWindowLog


def test_window_allows_limit_then_refuses():
    log = SlidingWindowLog(limit=3, window=10.0)
    assert [log.hit(t) for t in (0.0, 1.0, 2.0, 2.5)] == [True, True, True, False]


def test_events_expire_after_the_window():
    log = SlidingWindowLog(limit=2, window=10.0)
    assert log.hit(0.0)
    assert log.hit(1.0)
    assert not log.hit(9.9)
    assert log.hit(10.0)  # the event at 0.0 no longer counts
    assert not log.hit(10.5)


def test_remaining_counts_down_and_recovers():
    log = SlidingWindowLog(limit=3, window=5.0)
    assert log.remaining(0.0) == 3
    log.hit(0.0)
    log.hit(1.0)
    assert log.remaining(1.0) == 1
    assert log.remaining(5.5) == 2
    assert log.remaining(7.0) == 3


def test_reset_at_reports_when_a_slot_frees():
    log = SlidingWindowLog(limit=2, window=10.0)
    assert log.reset_at(0.0) is None
    log.hit(3.0)
    log.hit(4.0)
    assert log.reset_at(5.0) == 13.0
    assert log.reset_at(13.0) is None


def test_non_positive_settings_are_errors():
    for make in (
        lambda: TokenBucket(capacity=0, rate=1),
        lambda: TokenBucket(capacity=1, rate=0),
        lambda: SlidingWindowLog(limit=0, window=1.0),
        lambda: SlidingWindowLog(limit=1, window=0.0),
    ):
        with pytest.raises(ValueError):
            make()
