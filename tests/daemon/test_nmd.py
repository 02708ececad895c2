"""A real `nmd` process on a temporary state directory and targets folder."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from daemon.service import control
from daemon.service.control import socket_path

from .test_cycle import make_target as make_cycle_target

BOUND = 60.0


def make_target(tmp_path: Path, **kwargs) -> tuple[Path, Path]:
    """The calc target on a nightly schedule: no cycle starts during these tests."""
    return make_cycle_target(tmp_path, extra='schedule = { cron = "0 3 * * *" }', **kwargs)


class Feed:
    """Items from a blocking source, read by a thread so that a test can await them."""

    def __init__(self, source: Iterable[str]) -> None:
        self.pending: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.arrivals: list[tuple[float, str]] = []
        """Every item with the `time.monotonic()` it was read at, awaited or not."""
        self.reader = threading.Thread(target=self._read, args=(source,), daemon=True)
        self.reader.start()

    def _read(self, source: Iterable[str]) -> None:
        for item in source:
            self.arrivals.append((time.monotonic(), item))
            self.pending.put(item)

    def wait_for(self, pattern: str) -> str:
        """The first item matching `pattern`, waiting at most BOUND seconds."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + BOUND
        while True:
            item = self.pending.get(timeout=max(0.0, deadline - time.monotonic()))
            self.seen.append(item)
            if regex.search(item):
                return item

    def drain(self) -> list[str]:
        """Everything read so far, awaited or not."""
        while not self.pending.empty():
            self.seen.append(self.pending.get())
        return self.seen


class Daemon(Feed):
    """An nmd process whose stderr lines can be awaited."""

    def __init__(
        self,
        targets: Path,
        state: Path,
        env: dict[str, str] | None = None,
        args: Iterable[str] = (),
    ) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daemon.service.nmd",
                "--targets",
                str(targets),
                "--state",
                str(state),
                "--stop-grace",
                "20",
                *args,
            ],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        super().__init__(self.proc.stderr)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=BOUND)
        except subprocess.TimeoutExpired:
            # faulthandler in nmd writes every thread's stack on SIGABRT, then it dies.
            self.proc.send_signal(signal.SIGABRT)
            self.proc.wait()
            self.reader.join()
            log = "".join(self.drain())
            raise AssertionError(f"nmd did not stop within {BOUND} s:\n{log}") from None


@pytest.fixture
def daemon_factory():
    started: list[Daemon] = []

    def start(*args, **kwargs) -> Daemon:
        started.append(Daemon(*args, **kwargs))
        return started[-1]

    yield start
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()


def datagrams(sock: socket.socket) -> Iterator[str]:
    """What arrives on `sock` until it is closed: systemd's side of $NOTIFY_SOCKET."""
    while True:
        try:
            yield sock.recv(4096).decode()
        except OSError:
            return


def test_ready_watchdog_and_stopping_reach_the_notify_socket(
    daemon_factory, tmp_path, docker_client
):
    targets, state = make_target(tmp_path)
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    listener = Feed(datagrams(sock))  # drained all along, as systemd does
    env = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"}
    daemon = daemon_factory(targets, state, env=env)
    listener.wait_for("READY=1")
    assert any("STATUS=1 target(s)" in m for m in listener.seen)
    listener.wait_for("WATCHDOG=1")  # pinged every 0.5 s
    assert daemon.stop() == 0
    listener.wait_for("STOPPING=1")
    sock.close()


def test_a_listener_that_stops_reading_does_not_stall_the_daemon(
    daemon_factory, tmp_path, docker_client
):
    """systemd always reads; anything else on $NOTIFY_SOCKET may not. Its queue
    (net.unix.max_dgram_qlen, 10 by default) fills within seconds of watchdog pings,
    and a blocking send would then hang shutdown for ever."""
    targets, state = make_target(tmp_path)
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    env = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"}
    daemon = daemon_factory(targets, state, env=env)
    daemon.wait_for(r"msg=\"ready")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as filler:
        filler.setblocking(False)
        with pytest.raises(BlockingIOError):  # fill the listener's queue
            for _ in range(100_000):
                filler.sendto(b"STATUS=filler", address)
    assert daemon.stop() == 0
    listener.close()


def test_a_second_nmd_on_the_same_state_is_refused(daemon_factory, tmp_path, docker_client):
    targets, state = make_target(tmp_path)
    first = daemon_factory(targets, state)
    first.wait_for(r"msg=\"ready")
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "daemon.service.nmd",
            "--targets",
            str(targets),
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=BOUND,
    )
    assert second.returncode == 1
    assert f"another nmd (pid {first.proc.pid}) already runs on {state}" in second.stderr
    assert first.stop() == 0


def test_target_files_are_picked_up_without_a_restart(daemon_factory, tmp_path, docker_client):
    targets, state = make_target(tmp_path)
    daemon = daemon_factory(targets, state)
    daemon.wait_for(r"scheduled calc")
    daemon.wait_for(r"msg=\"ready")
    beta = (targets / "calc.toml").read_text().replace('name = "calc"', 'name = "beta"')
    (targets / "beta.toml").write_text(beta)
    daemon.wait_for(r"scheduled beta")
    (targets / "broken.toml").write_text('name = "broken"\n')
    line = daemon.wait_for(r"invalid target file")
    assert f"{targets / 'broken.toml'}: repo: missing" in line
    (targets / "beta.toml").write_text(beta.replace('timeout = "20s"', 'timeout = "lots"'))
    line = daemon.wait_for(r"beta.toml")
    assert "its last valid definition keeps running" in line
    (targets / "calc.toml").unlink()
    daemon.wait_for(r"unscheduled calc")
    (targets / "broken.toml").write_text(beta.replace("beta", "broken"))
    daemon.proc.send_signal(signal.SIGHUP)  # a reload on request, too
    daemon.wait_for(r"received SIGHUP")
    daemon.wait_for(r"scheduled broken")
    assert daemon.proc.poll() is None
    assert daemon.stop() == 0


SLOW = """\
def add(a, b):
    import time
    time.sleep(0.3)
    return a - b


def scale(values, factor):
    return [v * factor for v in values]
"""


def test_sigterm_during_a_cycle_exits_0_with_a_clean_repo(daemon_factory, tmp_path, docker_client):
    targets, state = make_target(tmp_path, ops=SLOW)
    text = (targets / "calc.toml").read_text()
    text = text.replace('cron = "0 3 * * *"', 'every = "1h"')
    (targets / "calc.toml").write_text(text.replace("batch = 30", "batch = 4"))
    docker_events = docker_client.events(decode=True, filters={"event": "start"})
    daemon = daemon_factory(targets, state)
    try:
        for event in docker_events:  # a batch of candidates is running
            if event["Actor"]["Attributes"].get("neuromutant.job", "").startswith("calc-cycle"):
                break
    finally:
        docker_events.close()
    assert daemon.stop() == 0
    assert any("calc: cycle 1 stopped" in line for line in daemon.drain())
    repo = state / "bots" / "calc"
    status = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""


def nmctl(state: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli.main", *args, "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=BOUND * 3,
    )


def test_a_forced_cycle_through_the_socket_streams_progress(
    daemon_factory, tmp_path, docker_client
):
    targets, state = make_target(tmp_path)
    daemon = daemon_factory(targets, state)
    daemon.wait_for(r"msg=\"ready")
    events: list[dict] = []
    report = control.call(socket_path(state), {"cmd": "cycle", "name": "calc"}, events.append)
    assert report["status"] == "accepted", report["reason"]
    assert {"kind": "phase", "name": "baseline"} in events
    assert any(e["kind"] == "evaluated" and e["done"] > 0 for e in events)

    status = json.loads(nmctl(state, "status", "--json").stdout)
    assert status["targets"]["calc"]["last"]["commit"] == report["commit"]
    assert nmctl(state, "pause", "calc").returncode == 0
    assert json.loads(nmctl(state, "status", "--json").stdout)["targets"]["calc"]["paused"]
    assert nmctl(state, "resume", "calc").returncode == 0
    unknown = nmctl(state, "pause", "calx")
    assert unknown.returncode == 1 and "Did you mean 'calc'?" in unknown.stderr
    assert daemon.stop() == 0
    assert not socket_path(state).exists()


def test_nmctl_cycle_without_a_daemon_says_how_to_proceed(tmp_path):
    done = nmctl(tmp_path, "cycle", "alpha")
    assert done.returncode == 1
    assert "nmd is not running" in done.stderr
    assert "nmctl cycle alpha --local" in done.stderr


def test_a_failing_target_backs_off_while_the_others_go_on(daemon_factory, tmp_path, docker_client):
    targets, state = make_target(tmp_path)
    (targets / "ghost.toml").write_text(
        'name = "ghost"\nrepo = "/nonexistent/ghost"\nfiles = ["g/*.py"]\n'
        'schedule = { every = "1s" }\n'
    )
    daemon = daemon_factory(targets, state)
    daemon.wait_for(r"ghost: cannot read its repository: /nonexistent/ghost is not a git")
    daemon.wait_for(r"ghost: backing off 60s after 1 failed cycle")
    status = control.call(socket_path(state), {"cmd": "status"})
    assert status["targets"]["ghost"]["failures"] == 1
    assert "calc" in status["targets"] and daemon.proc.poll() is None
    assert daemon.stop() == 0


def test_kill_9_of_nmd_mid_cycle_then_a_restart_is_clean(daemon_factory, tmp_path, docker_client):
    targets, state = make_target(tmp_path, ops=SLOW)
    text = (targets / "calc.toml").read_text().replace('cron = "0 3 * * *"', 'every = "1h"')
    (targets / "calc.toml").write_text(text.replace("batch = 30", "batch = 4"))
    docker_events = docker_client.events(decode=True, filters={"event": "start"})
    first = daemon_factory(targets, state)
    try:
        for event in docker_events:
            if event["Actor"]["Attributes"].get("neuromutant.job", "").startswith("calc-cycle"):
                break
    finally:
        docker_events.close()
    first.proc.kill()
    first.proc.wait()

    second = daemon_factory(targets, state)
    second.wait_for(r"msg=\"ready")
    leftovers = [
        c
        for c in docker_client.containers.list(all=True)
        if c.labels.get("neuromutant.owner", "").split("/")[1:2] == [str(first.proc.pid)]
    ]
    assert leftovers == []
    rows = {
        r["number"]: r["status"]
        for r in __import__("daemon.store", fromlist=["Store"]).open_store(state).cycles("calc")
    }
    assert rows[1] == "interrupted"
    status = subprocess.run(
        ["git", "-C", str(state / "bots" / "calc"), "status", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""
    assert second.stop() == 0
