"""The daemon's queue end to end, in this process: real git and store, cycles stood in for.

A fake stands in for the kind-specific part of a cycle (as in
tests/daemon/test_policy.py): it runs until the test lets it end, or until its
stop event is set, as a real cycle does at its next batch or checkpoint. No
Docker, no nmd process: the threads are this test's.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from daemon.cycles import CycleReport
from daemon.errors import Error
from daemon.service.control import Server
from daemon.service.scheduler import Service
from daemon.store import open_store
from policies.status import CycleStatus

from ..daemon.test_cycle import make_target
from .helpers import until

BOUND = 30.0


class Cycles:
    """Fake cycles: each runs until `finish(name)`, or ends `stopped` once told to stop."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, bool]] = []
        self.gates: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        monkeypatch.setattr("daemon.cycles.runner.run_kind", self)

    def finish(self, name: str) -> None:
        self.gates.setdefault(name, threading.Event()).set()

    def __call__(self, context) -> CycleReport:
        name = context.spec.name
        with self.lock:
            [row] = context.store.cycles(name, 1)
            self.calls.append((name, bool(row["forced"])))
            gate = self.gates.setdefault(name, threading.Event())
        while not gate.wait(0.01):
            if context.stop.is_set():
                return CycleReport(name, context.number, CycleStatus.STOPPED, "stopped", 0.5)
        return CycleReport(name, context.number, CycleStatus.ACCEPTED, "done", 0.5, 1.0, 3, 2.0)


def service(tmp_path: Path, *names: str) -> Service:
    targets, state = make_target(tmp_path, extra='schedule = { every = "1h" }')
    calc = (targets / "calc.toml").read_text()
    for name in names:
        (targets / f"{name}.toml").write_text(
            calc.replace('"calc"', f'"{name}"').replace("bots/calc", f"bots/{name}")
        )
    open_store(state).close()  # made once: two threads' first opens race (daemon/store)
    svc = Service(state, targets, backend=None, max_concurrent=1)
    svc.reload()  # not started: ticks and requests are this test's
    return svc


def background(run: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def target() -> None:
        try:
            out.append(run())
        except Exception as exc:
            out.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, out


def running(svc: Service) -> list[str]:
    return [r["target"] for r in svc.status()["running"]]


def test_a_forced_request_takes_the_slot_of_a_scheduled_cycle_which_then_runs_again(
    tmp_path, monkeypatch
):
    cycles = Cycles(monkeypatch)
    svc = service(tmp_path, "beta")
    ticking, _ = background(lambda: svc.tick("beta"))
    until(lambda: running(svc) == ["beta"], "beta's scheduled cycle runs")
    events: list[dict] = []
    forced, report = background(lambda: svc.handle({"cmd": "cycle", "name": "calc"}, events.append))
    queued = until(lambda: events, "the forced request says it is queued")[0]
    assert queued["kind"] == "queued" and queued["ahead"] == 1
    assert queued["detail"].startswith("1 ahead (beta, ")
    assert "beta will stop after its current batch" in queued["detail"]
    until(lambda: running(svc) == ["calc"], "calc's forced cycle runs in beta's slot")
    assert [(q["target"], q["forced"]) for q in svc.status()["queue"]] == [("beta", False)]
    cycles.finish("calc")
    forced.join(BOUND)
    assert report[0]["status"] == "accepted"
    assert [e["kind"] for e in events][-1] == "started"
    until(lambda: running(svc) == ["beta"], "beta runs again")
    cycles.finish("beta")
    ticking.join(BOUND)
    assert cycles.calls == [("beta", False), ("calc", True), ("beta", False)]
    statuses = {n: svc.targets[n].last["status"] for n in ("beta", "calc")}
    assert statuses == {"beta": "accepted", "calc": "accepted"}
    assert svc.status()["queue"] == [] and svc.status()["running"] == []


def test_a_forced_cycle_does_not_yield_and_requests_behind_it_wait_in_order(tmp_path, monkeypatch):
    cycles = Cycles(monkeypatch)
    svc = service(tmp_path, "beta", "gamma")
    first, _ = background(lambda: svc.run("beta", forced=True))
    until(lambda: running(svc) == ["beta"], "beta runs")
    later, ticked = background(lambda: svc.tick("gamma"))
    until(lambda: svc.status()["queue"] or ticked, "gamma's scheduled request waits")
    assert not ticked, ticked
    told: list[dict] = []
    second, _ = background(lambda: svc.run("calc", forced=True, progress=told.append))
    until(lambda: len(svc.status()["queue"]) == 2, "calc's forced request waits")
    assert [q["target"] for q in svc.status()["queue"]] == ["calc", "gamma"]
    assert not svc.status()["running"][0]["yielding"]
    assert "beta's cycle was forced too" in told[0].detail
    for name in ("beta", "calc", "gamma"):
        cycles.finish(name)
    for thread in (first, second, later):
        thread.join(BOUND)
    assert [c[0] for c in cycles.calls] == ["beta", "calc", "gamma"]


def test_a_request_queued_when_nmd_stops_is_told_so(tmp_path, monkeypatch):
    cycles = Cycles(monkeypatch)
    svc = service(tmp_path)
    first, _ = background(lambda: svc.run("calc", forced=True))
    until(lambda: running(svc) == ["calc"], "calc runs")
    second, out = background(lambda: svc.run("calc", forced=True))
    until(lambda: svc.status()["queue"], "the second request waits")
    svc.stopping.set()
    second.join(BOUND)
    assert isinstance(out[0], Error) and "nmd is stopping" in str(out[0])
    first.join(BOUND)
    assert cycles.calls == [("calc", True)]


def test_a_client_that_hangs_up_while_queued_cancels_its_request(tmp_path, monkeypatch, caplog):
    cycles = Cycles(monkeypatch)
    svc = service(tmp_path, "beta")
    first, _ = background(lambda: svc.run("beta", forced=True))
    until(lambda: running(svc) == ["beta"], "beta runs")
    server = Server(tmp_path / "nmd.sock", svc.handle)
    server.start()
    try:
        with caplog.at_level(logging.DEBUG):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.connect(str(tmp_path / "nmd.sock"))
                client.sendall(b'{"cmd": "cycle", "name": "calc"}\n')
                line = client.makefile("rb").readline()
                assert json.loads(line)["event"]["kind"] == "queued"
                assert [q["target"] for q in svc.status()["queue"]] == ["calc"]
            until(lambda: not svc.status()["queue"], "the queue forgets calc")
            until(lambda: server.connections == 0, "the connection is closed")
    finally:
        server.close()
    cycles.finish("beta")
    first.join(BOUND)
    assert cycles.calls == [("beta", True)]
    messages = [r.getMessage() for r in caplog.records]
    assert "calc: forced cycle cancelled: its client left the queue" in messages
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


def test_a_client_that_only_stops_writing_still_waits_for_its_cycle(tmp_path, monkeypatch):
    """``nc -N`` shuts its writing side after the request, and reads on: not a hang-up."""
    cycles = Cycles(monkeypatch)
    svc = service(tmp_path, "beta")
    first, _ = background(lambda: svc.run("beta", forced=True))
    until(lambda: running(svc) == ["beta"], "beta runs")
    server = Server(tmp_path / "nmd.sock", svc.handle)
    server.start()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(tmp_path / "nmd.sock"))
            client.sendall(b'{"cmd": "cycle", "name": "calc"}\n')
            client.shutdown(socket.SHUT_WR)
            answers = client.makefile("rb")
            assert json.loads(answers.readline())["event"]["kind"] == "queued"
            cycles.finish("beta")
            cycles.finish("calc")
            lines = [json.loads(line) for line in answers]
    finally:
        server.close()
    first.join(BOUND)
    assert lines[0]["event"]["kind"] == "started"
    assert lines[-1]["ok"] and lines[-1]["result"]["status"] == "accepted"
