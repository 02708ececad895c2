"""The queue's order: forced first, then by arrival; a busy target lets others pass."""

from __future__ import annotations

import threading

import pytest

from daemon.service.queue import CycleQueue

from .helpers import STOPPING, forced, scheduled, starter


def order(queue: CycleQueue) -> list[tuple[str, bool]]:
    waiting, _ = queue.snapshot()
    return [(r.target, r.forced) for r in waiting]


def test_forced_requests_go_before_scheduled_ones_and_each_kind_in_arrival_order():
    queue = CycleQueue(1)
    for request in (scheduled("a"), forced("b"), scheduled("c"), forced("d")):
        assert queue.put(request)
    assert order(queue) == [("b", True), ("d", True), ("a", False), ("c", False)]


def test_only_the_first_in_line_takes_a_free_slot():
    queue = CycleQueue(1)
    first, second = scheduled("a"), forced("b")
    queue.put(first)
    queue.put(second)
    assert queue.take(first, starter, 0.0) is None  # b is first in line
    running = queue.take(second, starter, 0.0)
    assert running is not None and running.target == "b"
    assert queue.take(first, starter, 0.0) is None  # no slot free
    queue.release(running)
    assert queue.take(first, starter, 0.0) is not None


def test_a_request_whose_target_runs_lets_the_ones_behind_it_pass():
    queue = CycleQueue(2)
    running = queue.take(_put(queue, scheduled("a")), starter, 0.0)
    again, other = forced("a"), forced("b")
    queue.put(again)
    queue.put(other)
    assert queue.take(again, starter, 0.0) is None  # a runs already
    assert queue.take(other, starter, 0.0) is not None
    assert running is not None


def test_a_scheduled_request_of_a_busy_target_is_not_queued_but_a_forced_one_is():
    queue = CycleQueue(1)
    assert queue.put(scheduled("a"))
    assert not queue.put(scheduled("a"))
    assert queue.put(forced("a"))
    assert queue.busy("a") and not queue.busy("b")


def test_a_cancelled_request_leaves_the_queue():
    queue = CycleQueue(1)
    request = _put(queue, forced("a"))
    assert queue.cancel(request)
    assert order(queue) == []
    assert not queue.cancel(request)
    assert queue.take(request, starter, 0.0) is None


def test_a_yielded_request_goes_back_with_its_first_arrival():
    queue = CycleQueue(1)
    first = _put(queue, scheduled("a"))
    running = queue.take(first, starter, 0.0)
    later = _put(queue, scheduled("b"))
    assert running is not None and later.seq > first.seq
    assert queue.release(running, requeue=True)
    assert order(queue) == [("a", False), ("b", False)]


def test_a_yielded_request_is_not_put_back_when_its_target_waits_already():
    queue = CycleQueue(1)
    running = queue.take(_put(queue, scheduled("a")), starter, 0.0)
    assert running is not None
    _put(queue, forced("a"))  # asks `running` to yield, and takes up its work
    assert running.stop.yielding and running.stop.wanted_by == "a"
    assert not queue.release(running, requeue=True)
    assert order(queue) == [("a", True)]


def test_a_forced_request_makes_the_scheduled_cycle_yield_and_takes_its_slot():
    queue = CycleQueue(1)
    lander = queue.take(_put(queue, scheduled("lander", "weights")), starter, 0.0)
    assert lander is not None
    alpha = _put(queue, forced("alpha"))
    assert lander.stop.yielding and lander.stop.is_set() and lander.stop.wanted_by == "alpha"
    assert queue.take(alpha, starter, 0.0) is None  # until lander gives its slot up
    assert queue.release(lander, requeue=True)
    assert queue.take(alpha, starter, 0.0) is not None
    assert order(queue) == [("lander", False)]


def test_a_waiting_request_takes_its_slot_as_soon_as_it_frees():
    queue = CycleQueue(1)
    running = queue.take(_put(queue, forced("a")), starter, 0.0)
    waiting = _put(queue, forced("b"))
    taken: list[object] = []
    thread = threading.Thread(target=lambda: taken.append(queue.take(waiting, starter, 30.0)))
    thread.start()
    assert running is not None
    queue.release(running)
    thread.join(30.0)
    assert taken and taken[0] is not None


def test_the_stop_of_a_slot_is_set_when_nmd_stops():
    queue = CycleQueue(1)
    running = queue.take(_put(queue, scheduled("a")), starter, 0.0)
    assert running is not None and not running.stop.is_set()
    STOPPING.set()
    try:
        assert running.stop.is_set() and not running.stop.yielding
    finally:
        STOPPING.clear()


def test_a_queue_needs_a_slot():
    with pytest.raises(ValueError):
        CycleQueue(0)


def _put(queue: CycleQueue, request):
    assert queue.put(request)
    return request
