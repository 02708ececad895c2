"""The line a waiting client reads: what it waits for, and whether room is being made."""

from __future__ import annotations

from daemon.cycles.events import Generation, Phase
from daemon.service.views import queued_detail

from .helpers import forced, scheduled, slot


def test_a_forced_request_behind_a_yielding_weights_cycle_is_told_it_pauses():
    lander = slot(scheduled("lander", "weights"))
    lander.progress(Phase("evolve"))
    lander.progress(Generation(23, 60, 1.0, 0.5, 1.0, 100, 10.0))
    lander.stop.ask("alpha")
    count, line, _ = queued_detail(forced("alpha"), [], [lander], 1)
    assert count == 1
    assert line.startswith("1 ahead (lander, generation 23/60, started ")
    assert line.endswith("; lander will pause at its next checkpoint (it resumes from there later)")


def test_requests_ahead_are_named_and_a_forced_cycle_is_said_to_run_on():
    running = slot(forced("beta"))
    first = scheduled("gamma")
    count, line, key = queued_detail(forced("alpha"), [first], [running], 1)
    assert count == 2 and line.startswith("2 ahead (gamma, scheduled, waiting ")
    assert "; beta, starting, started " in line and "forced too" not in line  # not first
    _, line, other = queued_detail(forced("alpha"), [], [running], 1)
    assert line.endswith("; beta's cycle was forced too: it runs to its end")
    assert key != other  # the client is told again when the queue changes
    _, line, _ = queued_detail(scheduled("alpha"), [], [running], 1)
    assert "forced too" not in line


def test_a_free_slot_leaves_only_the_targets_own_cycle_to_wait_for():
    count, line, _ = queued_detail(forced("alpha"), [], [slot(scheduled("beta"))], 2)
    assert (count, line) == (0, "next in line")
