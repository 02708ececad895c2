"""Which scheduled cycles make room for forced requests."""

from __future__ import annotations

from daemon.service.yielding import choose_yields

from .helpers import forced, scheduled, slot


def names(chosen) -> list[tuple[str, str]]:
    return [(s.target, r.target) for s, r in chosen]


def test_nothing_yields_without_a_forced_request_or_with_a_free_slot():
    running = [slot(scheduled("lander", "weights"))]
    assert choose_yields([scheduled("cartpole")], running, 1) == []
    assert choose_yields([forced("alpha")], running, 2) == []


def test_the_longest_running_weights_cycle_yields_first():
    running = [
        slot(scheduled("code", "code"), started=1.0),
        slot(scheduled("cartpole", "weights"), started=20.0),
        slot(scheduled("lander", "weights"), started=10.0),
    ]
    assert names(choose_yields([forced("alpha")], running, 3)) == [("lander", "alpha")]
    two = [forced("alpha"), forced("beta")]
    assert names(choose_yields(two, running, 3)) == [("lander", "alpha"), ("cartpole", "beta")]
    three = [*two, forced("gamma")]
    assert names(choose_yields(three, running, 3))[-1] == ("code", "gamma")


def test_forced_cycles_never_yield():
    running = [slot(forced("cartpole", "weights"))]
    assert choose_yields([forced("alpha")], running, 1) == []


def test_a_cycle_already_yielding_counts_as_a_slot_coming_free():
    lander, cartpole = slot(scheduled("lander", "weights")), slot(scheduled("cartpole", "weights"))
    lander.stop.ask("alpha")
    waiting = [forced("alpha")]
    assert choose_yields(waiting, [lander, cartpole], 2) == []
    assert names(choose_yields([*waiting, forced("beta")], [lander, cartpole], 2)) == [
        ("cartpole", "beta")
    ]


def test_the_forced_requests_own_target_yields_to_it():
    running = [
        slot(scheduled("lander", "weights"), started=1.0),
        slot(scheduled("alpha", "code"), started=5.0),
    ]
    assert names(choose_yields([forced("alpha")], running, 2)) == [("alpha", "alpha")]


def test_scheduled_requests_waiting_make_nothing_yield():
    running = [slot(scheduled("lander", "weights"))]
    assert choose_yields([scheduled("alpha"), scheduled("beta")], running, 1) == []
