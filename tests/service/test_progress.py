"""The progress log: at most one line per interval, one when due, on an injected clock."""

from __future__ import annotations

import logging

from daemon.cycles.events import Evaluated, Generation, Phase
from daemon.service.eta import Budget
from daemon.service.progress import ProgressLog, duration


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def progress_log(budget: Budget, forward=None) -> tuple[ProgressLog, Clock, list[str]]:
    clock, lines = Clock(), []
    logger = logging.getLogger("test.progress")

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger.handlers[:] = [Catch()]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    kwargs = {"forward": forward} if forward else {}
    return ProgressLog("alpha", budget, clock=clock, logger=logger, **kwargs), clock, lines


def test_events_are_logged_at_most_every_interval():
    log, clock, lines = progress_log(Budget("code", 300.0))
    log(Phase("baseline"))
    log(Phase("mutations"))
    log(Evaluated(0, 400, 0.5))
    for done in range(1, 20):
        clock.now += 1.0
        log(Evaluated(done * 5, 400, 0.5))
    assert len(lines) == 1  # 19 s of events, one line at 10 s
    assert lines[0].startswith("alpha: mutations, 50/400 candidates tried, best 0.500, ")
    assert "300 candidates/min" in lines[0] and "10s elapsed" in lines[0]


def test_a_silent_cycle_still_gets_a_line_when_one_is_due():
    log, clock, lines = progress_log(Budget("weights", 600.0, generations=60))
    log(Phase("evolve"))
    clock.now += 9.9
    assert not log.heartbeat()
    assert log.due() == 1010.0
    clock.now += 0.1
    assert log.heartbeat()
    assert not log.heartbeat()  # not twice
    clock.now += 10.0
    assert log.heartbeat()
    assert lines == [
        "alpha: evolve, 10s elapsed, about 9m50s left",
        "alpha: evolve, 20s elapsed, about 9m40s left",
    ]


def test_a_weights_line_has_generation_steps_best_mean_and_pace():
    log, clock, lines = progress_log(Budget("weights", 600.0, generations=60))
    log(Phase("evolve"))
    clock.now += 12.0
    log(Generation(23, 60, 150.25, -40.06, 160.0, 1_234_567, 100.0))
    assert lines == [
        "alpha: evolve, generation 23/60, 1,234,567 env steps, best 150.2, mean -40.1, "
        "12,346 steps/s, 12s elapsed, about 2m41s left"
    ]
    assert log.summary() == "generation 23/60"


def test_every_event_is_passed_on_and_the_view_shows_the_last():
    seen = []
    log, clock, _ = progress_log(Budget("code", 300.0), forward=seen.append)
    events = [Phase("mutations"), Evaluated(0, 100, 0.25), Evaluated(50, 100, 0.75)]
    for event in events:
        clock.now += 5.0
        log(event)
    assert seen == events
    view = log.view()
    assert view["phase"] == "mutations" and view["elapsed"] == 15.0
    assert view["event"] == {"kind": "evaluated", "done": 50, "total": 100, "best": 0.75}
    assert view["eta"] == 5.0  # 50 candidates in 5 s, 50 to go
    assert log.summary() == "50/100 candidates"


def test_durations_read_as_a_person_would_say_them():
    assert [duration(s) for s in (4.4, 59.6, 190, 3900)] == ["4s", "1m00s", "3m10s", "1h05m"]
