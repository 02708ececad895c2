"""A real nmd with one slot: forced cycles first, Ctrl-C, start-up order, progress lines.

Small targets made here: `calc` (the code target of tests/daemon/test_cycle.py)
and `pole` (the tiny CartPole weights target of tests/daemon/test_weights_cycle.py),
in the real Docker sandbox.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from daemon.cycles import run_cycle
from daemon.registry import load_registry
from daemon.service import control
from daemon.service.control import socket_path
from daemon.store import open_store
from policies.neuro import load_weights
from policies.neuro.evolve import CHECKPOINT

from ..daemon.test_nmd import BOUND, Feed, make_target
from ..daemon.test_weights_cycle import make_target as make_weights_target
from ..daemon.test_weights_cycle import timeless
from .helpers import until

GENERATIONS = 100
"""Generations of `pole` take milliseconds: enough of them to still run when a client asks.

The client asks about two process start-ups after pole's first checkpoint: pole yielded
at generation 8 to 11 of 100 on a loaded machine. Both runs compared repeat them all."""
ENDED = r"(accepted|rejected|reverted|waiting|stopped|error)"
"""How a cycle's last log line says it ended (its ROI line comes just before)."""
SLACK = 1.5
"""Seconds a progress line may come late: the log's pipe and a busy machine."""
SLOWER = """\
def add(a, b):
    import time
    time.sleep(0.5)
    return a - b


def scale(values, factor):
    return [v * factor for v in values]
"""


def add_pole(
    root: Path,
    targets: Path,
    schedule: str,
    generations: int = GENERATIONS,
    seconds: str = "3m",
) -> None:
    """The tiny `pole` weights target, in `targets`, on `schedule`, acting at its first tick."""
    made, _ = make_weights_target(root, generations=generations)
    text = (made / "pole.toml").read_text().replace('cron = "0 3 * * *"', schedule)
    text = text.replace('seconds = "3m"', f'seconds = "{seconds}"')
    (targets / "pole.toml").write_text(text + '\n[trigger]\npolicy = "change-rule"\n')


def nmctl(state: Path, *args: str) -> subprocess.Popen:
    """nmctl in a child that takes Ctrl-C as a terminal would give it.

    A suite started in the background (`cmd &` in a script) has SIGINT ignored, and
    Python then installs no KeyboardInterrupt handler in children: reset it to default.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "daemon.cli.main", *args, "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def status(state: Path) -> dict[str, Any]:
    return control.call(socket_path(state), {"cmd": "status"})


def startup_seconds(state: Path) -> float:
    """How long nmctl takes to start and exit on this machine, under its present load."""
    began = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "daemon.cli.main", "--help"], capture_output=True, check=True
    )
    return time.monotonic() - began


def index(lines: list[str], pattern: str) -> int:
    regex = re.compile(pattern)
    found = [i for i, line in enumerate(lines) if regex.search(line)]
    assert found, f"no log line matches {pattern!r}"
    return found[0]


def test_a_forced_cycle_goes_first_and_the_yielded_weights_cycle_resumes_unchanged(
    daemon_factory, tmp_path, docker_backend
):
    targets, state = make_target(tmp_path / "calc")  # calc: nightly, never ticks here
    add_pole(tmp_path / "pole", targets, 'every = "1h"')  # pole: ticks at start
    daemon = daemon_factory(targets, state, args=["--max-concurrent", "1"])
    daemon.wait_for(r"pole: scheduled cycle starts")
    runs = state / "runs" / "pole"
    until(lambda: list(runs.glob(f"head-*/{CHECKPOINT}")), "pole's first checkpoint", BOUND)

    startup = startup_seconds(state)
    began = time.monotonic()
    client = nmctl(state, "cycle", "calc")
    told = Feed(client.stderr)
    queued = told.wait_for(r"^queued: ")
    assert time.monotonic() - began < startup + 1.0, (time.monotonic() - began, startup)
    assert queued.startswith("queued: 1 ahead (pole, generation "), queued
    assert "pole will pause at its next checkpoint" in queued
    assert client.wait(timeout=BOUND * 3) == 0, told.drain()
    summary = client.stdout.read()
    assert summary.startswith("calc cycle 1: ACCEPTED"), summary
    assert told.wait_for(r"^started")

    daemon.wait_for(rf"pole: cycle 2 {ENDED}")
    lines = daemon.drain()
    order = [
        r"pole: yields its slot to the forced cycle of calc at its next generation checkpoint",
        r"calc: forced cycle starts",
        r"calc: cycle 1 accepted",
        r"pole: scheduled cycle starts after",
        r"pole: cycle 2 accepted",
    ]
    assert [index(lines, p) for p in order] == sorted(index(lines, p) for p in order)
    assert index(lines, r"pole: cycle 1 stopped") < index(lines, r"pole: back in the queue")
    store = open_store(state)
    [calc] = store.cycles("calc")
    pole = {r["number"]: r for r in store.cycles("pole")}
    store.close()
    assert pole[1]["status"] == "stopped" and pole[1]["ended_at"] <= calc["started_at"]
    last = status(state)["targets"]["pole"]["last"]
    assert last["evolution"]["resumed_at"] >= 1
    assert daemon.stop() == 0

    # The same target, undisturbed: the same run, generation for generation, and weights.
    whole_targets, whole_state = make_weights_target(tmp_path / "whole", generations=GENERATIONS)
    spec = load_registry(whole_targets, whole_state).get("pole")
    whole = run_cycle(spec, whole_state, docker_backend, open_store(whole_state), forced=False)
    assert whole.status == last["status"] == "accepted", whole.reason
    assert whole.evolution["resumed_at"] == 0
    curve = timeless(Path(last["evolution"]["curve_csv"]).read_text())
    assert curve == timeless(Path(whole.evolution["curve_csv"]).read_text())
    mine = load_weights(state / "bots" / "pole" / "weights" / "policy.pt").tensors
    theirs = load_weights(spec.repo / "weights" / "policy.pt").tensors
    assert mine.keys() == theirs.keys()
    assert all(np.array_equal(mine[k], theirs[k]) for k in mine)


def test_ctrl_c_cancels_a_queued_request_and_leaves_a_running_cycle_running(
    daemon_factory, tmp_path, docker_client
):
    targets, state = make_target(tmp_path, ops=SLOWER)
    text = (targets / "calc.toml").read_text()
    (targets / "calc.toml").write_text(text.replace("batch = 30", "batch = 4"))
    daemon = daemon_factory(targets, state, args=["--max-concurrent", "1"])
    daemon.wait_for(r"msg=\"ready")
    first = nmctl(state, "cycle", "calc")
    first_told = Feed(first.stderr)
    first_told.wait_for(r"^started")
    second = nmctl(state, "cycle", "calc")
    second_told = Feed(second.stderr)
    queued = second_told.wait_for(r"^queued: ")
    assert queued.startswith("queued: 1 ahead (calc, ") and "forced too" in queued, queued
    assert [q["target"] for q in status(state)["queue"]] == ["calc"]

    second.send_signal(signal.SIGINT)
    code = second.wait(timeout=BOUND)
    second_told.reader.join(BOUND)
    assert code == 130, second_told.drain()  # what it said instead of "cancelled"
    second_told.wait_for(r"cancelled: calc's request leaves nmd's queue")
    daemon.wait_for(r"calc: forced cycle cancelled: its client left the queue")
    assert status(state)["queue"] == []

    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=BOUND) == 130
    first_told.wait_for(r"calc's cycle keeps running in nmd; follow it with `nmctl watch`")
    ended = daemon.wait_for(rf"calc: cycle \d+ {ENDED}")
    assert "calc: cycle 1 accepted" in ended  # it ran to its end, and the second never ran
    assert daemon.stop() == 0
    log = "".join(daemon.drain())
    assert "Traceback" not in log and "level=error" not in log


def test_nmd_starts_with_the_cheapest_target_and_logs_progress_every_10_s(
    daemon_factory, tmp_path, docker_client
):
    targets, state = make_target(tmp_path / "calc")
    calc = (targets / "calc.toml").read_text().replace('cron = "0 3 * * *"', 'every = "1h"')
    (targets / "calc.toml").write_text(calc)  # budget: 120 s
    # pole: as many generations as 14 s allow (its budget), long enough to need a progress line
    add_pole(tmp_path / "pole", targets, 'every = "1h"', generations=100_000, seconds="14s")
    daemon = daemon_factory(targets, state, args=["--max-concurrent", "1"])
    daemon.wait_for(r"due at start, cheapest first: pole \(~14s\), calc \(~120s\)")
    assert "pole:" in daemon.wait_for(r"(calc|pole): scheduled cycle starts")
    daemon.wait_for(rf"pole: cycle 1 {ENDED}")
    daemon.wait_for(r"calc: scheduled cycle starts")
    daemon.wait_for(rf"calc: cycle 1 {ENDED}")
    assert daemon.stop() == 0
    for name in ("calc", "pole"):
        times = [
            at
            for at, line in daemon.arrivals
            if re.search(rf"{name}: (scheduled cycle starts|\w+, .* elapsed|cycle 1 {ENDED})", line)
        ]
        gaps = np.diff(times)
        assert (gaps <= 10.0 + SLACK).all(), (name, gaps)
    progress = [line for _, line in daemon.arrivals if re.search(r"pole: \w+, .*elapsed", line)]
    began, ended = (
        next(at for at, line in daemon.arrivals if re.search(pattern, line))
        for pattern in (r"pole: scheduled cycle starts", rf"pole: cycle 1 {ENDED}")
    )
    # 14 s of evolution: longer than a gap may be, so a progress line must come in between
    # (that lines keep coming every 10 s is tests/service/test_progress.py's, on a fake clock)
    assert ended - began > 10.0 + SLACK
    assert len(progress) >= int((ended - began) // (10.0 + SLACK)), (ended - began, progress)
    pace = (
        r"generation \d+/100000, [\d,]+ env steps, best -?\d+\.\d, mean -?\d+\.\d, [\d,]+ steps/s"
    )
    assert any(re.search(pace, line) for line in progress), progress
