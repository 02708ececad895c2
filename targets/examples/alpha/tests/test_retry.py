import random

import pytest
from alpha.retry import (
    RetryPolicy,
    backoff_schedule,
    next_attempt_at,
    parse_retry_after,
    should_retry,
)


def test_default_delays_double_from_half_a_second():
    policy = RetryPolicy()
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]


def test_delay_is_capped_at_max_delay():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    assert policy.delay(3) == 4.0
    assert policy.delay(10) == 5.0
    with pytest.raises(ValueError):
        policy.delay(0)  # retries are counted from 1


def test_jitter_is_bounded_and_reproducible_from_a_seed():
    policy = RetryPolicy(base_delay=2.0, jitter=0.25)
    first = [policy.delay(1, random.Random(42)) for _ in range(20)]
    again = [policy.delay(1, random.Random(42)) for _ in range(20)]
    assert first == again
    assert all(1.5 <= d <= 2.5 for d in first)
    rng = random.Random(1)
    assert len({policy.delay(1, rng) for _ in range(20)}) > 1


def test_without_a_random_source_there_is_no_jitter():
    assert RetryPolicy(jitter=0.5).delay(2) == 1.0


def test_backoff_schedule_has_one_delay_per_retry():
    assert backoff_schedule(RetryPolicy(max_retries=3)) == [0.5, 1.0, 2.0]


def test_backoff_schedule_with_a_single_retry():
    assert backoff_schedule(RetryPolicy(max_retries=1, base_delay=3.0)) == [3.0]


def test_backoff_schedule_without_retries_is_empty():
    assert backoff_schedule(RetryPolicy(max_retries=0)) == []


def test_backoff_schedule_passes_the_random_source_on():
    policy = RetryPolicy(max_retries=4, jitter=0.5)
    seeded = backoff_schedule(policy, random.Random(3))
    assert seeded == backoff_schedule(policy, random.Random(3))
    assert seeded != backoff_schedule(policy)


def test_should_retry_transient_failures_only():
    policy = RetryPolicy(max_retries=2)
    assert should_retry(503, 1, policy)
    assert should_retry(429, 1, policy)
    assert not should_retry(404, 1, policy)
    assert not should_retry(400, 1, policy)


def test_should_retry_stops_when_retries_are_used_up():
    policy = RetryPolicy(max_retries=2)
    assert should_retry(502, 2, policy)
    assert not should_retry(502, 3, policy)


def test_parse_retry_after_in_seconds():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("0") == 0.0


def test_parse_retry_after_ignores_what_it_cannot_use():
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after("nan") is None


def test_next_attempt_follows_the_backoff():
    assert next_attempt_at(100.0, 2, RetryPolicy()) == 101.0


def test_next_attempt_honours_a_longer_retry_after():
    policy = RetryPolicy()
    assert next_attempt_at(100.0, 1, policy, retry_after=10.0) == 110.0
    assert next_attempt_at(100.0, 1, policy, retry_after=0.1) == 100.5


def test_retry_after_is_capped_by_max_delay():
    assert next_attempt_at(0.0, 1, RetryPolicy(max_delay=30.0), retry_after=3600.0) == 30.0
