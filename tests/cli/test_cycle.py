"""`nmctl cycle`: the progress bar from event objects, local or through nmd's socket."""

from __future__ import annotations

import io
import json

import pytest

from daemon.cli.main import main
from daemon.cli.progress import TerminalProgress, from_wire
from daemon.cycles.events import Evaluated, Generation, Phase, to_dict
from daemon.cycles.report import CycleReport
from daemon.service.control import Server, socket_path
from policies.status import CycleStatus

EVENTS = [
    Phase("baseline"),
    Evaluated(3, 10, 0.5),
    Generation(2, 4, 480.0, 200.5, 480.0, 12345, 3.2, 0.125),
    Generation(1, None, None, None, None, 10, 0.1),
]


def drawn(events) -> list[str]:
    stream = io.StringIO()
    progress = TerminalProgress(True, stream)
    for event in events:
        progress(event)
    progress.close()
    return stream.getvalue().split("\r\033[K")[1:]


def test_each_event_redraws_the_line():
    phase, evaluated, generation, bare, cleared = drawn(EVENTS)
    assert phase == "baseline..."
    assert evaluated.startswith(f"[{'#' * 9:<30}] 3/10 candidates, best 0.500, ")
    assert generation.startswith(
        f"[{'#' * 12:<24}] gen 2/4: best 480.0, mean 200.5, p_escape 0.125, 12,345 env steps, "
    )
    assert bare.startswith("gen 1: best -, mean -, 10 env steps, ")
    assert cleared == ""


def test_events_read_back_from_the_wire_draw_the_same():
    stream = io.StringIO()
    progress = TerminalProgress(True, stream)
    for event in EVENTS:
        progress.on_wire(json.loads(json.dumps(to_dict(event))))
    progress.close()
    assert stream.getvalue().split("\r\033[K")[1:] == drawn(EVENTS)


def test_unknown_or_malformed_events_are_skipped():
    assert from_wire({"kind": "telemetry", "x": 1}) is None
    assert from_wire({"kind": "evaluated", "done": 1}) is None  # fields missing
    stream = io.StringIO()
    TerminalProgress(True, stream).on_wire({"kind": "telemetry"})
    assert stream.getvalue() == ""


def test_nothing_is_drawn_when_disabled():
    stream = io.StringIO()
    progress = TerminalProgress(False, stream)
    for event in EVENTS:
        progress(event)
    progress.close()
    assert stream.getvalue() == ""


@pytest.fixture
def nmd(bot, monkeypatch):
    """A stand-in nmd on the control socket: streams `EVENTS`, then answers a report."""
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    bot.state.mkdir(mode=0o700, exist_ok=True)
    requests = []

    def handle(request, send):
        requests.append(request)
        for event in EVENTS:
            send(to_dict(event))
        report = CycleReport("calc", 7, CycleStatus("accepted"), "tests 1/3 -> 3/3")
        report.baseline_score, report.best_score, report.candidates = 0.333, 1.0, 12
        report.commit = "abc123"
        return report.to_dict()

    server = Server(socket_path(bot.state), handle)
    server.start()
    yield requests
    server.close()


def test_a_remote_cycle_draws_the_streamed_events_and_sums_up(bot, nmd, capsys, monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert main(["cycle", "calc", *bot.where]) == 0
    out, err = capsys.readouterr()
    assert nmd == [{"cmd": "cycle", "name": "calc"}]
    assert out.startswith("calc cycle 7: ACCEPTED — tests 1/3 -> 3/3\n")
    assert "baseline score 0.333, best 1.000" in out and "commit abc123" in out
    assert "\r\033[Kbaseline..." in err and "3/10 candidates" in err and "gen 2/4" in err


def test_a_remote_cycle_with_json_prints_the_report_only(bot, nmd, capsys):
    assert main(["cycle", "calc", "--json", *bot.where]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["status"] == "accepted" and report["cycle"] == 7
    assert err == ""


def test_a_local_cycle_hands_the_engine_a_progress_that_takes_events(bot, capsys, monkeypatch):
    seen = []

    def run_cycle(spec, state, backend, store, *, forced, progress):
        assert spec.name == "calc" and forced and backend == "backend"
        for event in EVENTS:
            progress(event)
        seen.append(progress)
        return CycleReport("calc", 1, CycleStatus("error"), "the sandbox broke")

    monkeypatch.setattr("daemon.cli.cycle.run_cycle", run_cycle)
    monkeypatch.setattr("daemon.cli.cycle.open_backend", lambda *a, **k: "backend")
    assert main(["cycle", "calc", "--local", *bot.where]) == 1  # the cycle ended in error
    assert isinstance(seen[0], TerminalProgress)
    assert capsys.readouterr().out == "calc cycle 1: ERROR — the sandbox broke\n"
