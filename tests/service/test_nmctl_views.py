"""What nmctl shows of the queue: `cycle`'s first lines, `status`, `watch`; from a stand-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from daemon.cli.main import main
from daemon.cycles.events import Evaluated, Generation, Phase, Queued, Started, to_dict
from daemon.cycles.report import CycleReport
from daemon.service.control import Server, socket_path
from policies.status import CycleStatus

STATUS = {
    "status": "2 target(s), running: lander, queued: alpha",
    "targets": {
        "alpha": {
            "paused": False,
            "running": False,
            "queued": True,
            "next_run": None,
            "failures": 0,
            "last": None,
        },
        "lander": {
            "paused": False,
            "running": True,
            "queued": False,
            "next_run": None,
            "failures": 0,
            "last": {"cycle": 3, "status": "rejected"},
        },
    },
    "running": [
        {
            "target": "lander",
            "forced": False,
            "kind": "weights",
            "started": 0.0,
            "yielding": True,
            "yields_to": "alpha",
            "phase": "evolve",
            "event": to_dict(Generation(23, 60, 150.25, -40.06, 160.0, 1_234_567, 190.0)),
            "elapsed": 190.0,
            "eta": 306.0,
        }
    ],
    "queue": [
        {
            "target": "alpha",
            "forced": True,
            "kind": "code",
            "since": 0.0,
            "waiting": 12.0,
            "position": 1,
        }
    ],
}


@pytest.fixture
def nmd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A stand-in nmd: answers `status`, and a `cycle` with the queue's events first."""
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)

    def handle(request: dict[str, Any], send) -> Any:
        if request["cmd"] == "status":
            return STATUS
        send(to_dict(Queued(1, "1 ahead (lander, generation 23/60, started 3m10s ago)")))
        send(to_dict(Started(41.0)))
        send(to_dict(Phase("baseline")))
        send(to_dict(Evaluated(3, 10, 0.5)))
        return CycleReport("alpha", 2, CycleStatus("accepted"), "fixed").to_dict()

    server = Server(socket_path(state), handle)
    server.start()
    yield state
    server.close()


def test_nmctl_cycle_prints_why_it_waits_even_without_a_terminal(nmd, capsys):
    assert main(["cycle", "alpha", "--state", str(nmd)]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "queued: 1 ahead (lander, generation 23/60, started 3m10s ago)",
        "started, after 41s in the queue",
    ]
    assert out.startswith("alpha cycle 2: ACCEPTED — fixed")


def test_nmctl_status_shows_progress_time_left_and_the_queue(nmd, capsys):
    assert main(["status", "--state", str(nmd)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "nmd: 2 target(s), running: lander, queued: alpha"
    assert out[1].startswith("  alpha ") and out[1].endswith("no cycle yet  [queued]")
    assert out[3] == "running:"
    assert out[4].startswith("  lander           scheduled evolve: [")
    assert "gen 23/60: best 150.2, mean -40.1, 1,234,567 env steps, 6,498 steps/s" in out[4]
    assert out[4].endswith("(3m10s elapsed, about 5m06s left)  [yielding to alpha]")
    assert out[5:] == ["queued:", "  1. alpha            forced    waiting 12s"]


def test_nmctl_watch_appends_each_refresh_when_piped_and_prints_json_lines(nmd, capsys):
    assert main(["watch", "--state", str(nmd), "--count", "2", "-n", "0.01"]) == 0
    out = capsys.readouterr().out
    assert out.count("--- ") == 2 and out.count("nmd: 2 target(s)") == 2
    assert "\033[H" not in out
    assert main(["watch", "--state", str(nmd), "--count", "2", "-n", "0.01", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [STATUS, STATUS]


def test_nmctl_watch_redraws_in_place_on_a_terminal(nmd, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    assert main(["watch", "--state", str(nmd), "--count", "2", "-n", "0.01"]) == 0
    out = capsys.readouterr().out
    assert out.count("\033[H\033[2J") == 2 and "(Ctrl-C to stop)" in out


def test_nmctl_watch_refuses_a_nonsense_interval(nmd, capsys):
    assert main(["watch", "--state", str(nmd), "-n", "0"]) == 1
    assert "--interval must be a positive number" in capsys.readouterr().err
