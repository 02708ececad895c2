"""How `RayBackend` follows up a cancel, with a stand-in for Ray's get and cancel.

A task that misses Ray's interrupt comes from Ray's own races and cannot be
provoked on demand; the real cancel, end to end on a two-node cluster, is
tests/cluster/test_cluster_cycles.py::test_a_cancelled_job_is_ended_on_its_node_and_its_container_removed.
"""

from __future__ import annotations

import pytest
import ray

from sandbox.cancel import Cancel
from sandbox.cluster import dispatch
from sandbox.cluster.dispatch import GRACE, WAIT, RayBackend
from sandbox.errors import BackendUnavailable
from sandbox.job import Job, Limits, Outcome, Result


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


class StandInRay:
    """Ray's get and cancel for one task that answers after `answers_after` waits, or never.

    `dies_when_forced`: a forced cancel kills the task's worker (its get then fails).
    """

    exceptions = ray.exceptions

    def __init__(self, clock: Clock, answers_after=None, dies_when_forced=True, error=None):
        self.clock, self.answers_after = clock, answers_after
        self.dies_when_forced, self.error = dies_when_forced, error
        self.cancels: list[bool] = []
        self.waits = 0

    def put(self, data):
        return data

    def get(self, ref, timeout):
        if self.error is not None:
            raise self.error
        if self.dies_when_forced and True in self.cancels:
            raise ray.exceptions.WorkerCrashedError()
        if self.answers_after is not None and self.waits >= self.answers_after:
            return Result(Outcome.OK, 0, 1.0)
        self.waits += 1
        self.clock.now += timeout
        raise ray.exceptions.GetTimeoutError("not yet")

    def cancel(self, ref, force=False):
        self.cancels.append(force)

    def nodes(self):
        return [{"NodeID": "a" * 56, "Alive": True}, {"NodeID": "b" * 56, "Alive": False}]


class Remote:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def options(self, **options):
        self.calls.append(options)
        return self

    def remote(self, *_):
        return "ref"


@pytest.fixture
def clock(monkeypatch) -> Clock:
    made = Clock()
    monkeypatch.setattr(dispatch.time, "monotonic", made.monotonic)
    return made


def backend(stand_in: StandInRay) -> RayBackend:
    made = RayBackend()
    made.ray, made._run, made._sweep = stand_in, Remote(), Remote()
    return made


def job(tmp_path) -> Job:
    tree = tmp_path / "tree"
    tree.mkdir(exist_ok=True)
    (tree / "a.py").write_text("x = 1\n")
    return Job(tree, ["{python}", "-c", "pass"], limits=Limits(timeout=300), name="j")


def cancelled() -> Cancel:
    cancel = Cancel()
    cancel.set()
    return cancel


def test_a_task_that_misses_the_interrupt_has_its_worker_killed_after_the_grace(tmp_path, clock):
    stand_in = StandInRay(clock)
    ray_backend = backend(stand_in)
    result = ray_backend.run(job(tmp_path), cancelled())
    assert result.outcome == Outcome.KILLED
    assert stand_in.cancels == [False, True]  # politely first, then its worker
    assert GRACE < clock.now <= GRACE + 2 * WAIT
    [sweep] = ray_backend._sweep.calls  # the live node sweeps for the container left
    assert sweep["scheduling_strategy"].node_id == "a" * 56 and sweep["num_cpus"] == 0


def test_a_task_whose_node_never_answers_is_given_up_on(tmp_path, clock):
    stand_in = StandInRay(clock, dies_when_forced=False)
    result = backend(stand_in).run(job(tmp_path), cancelled())
    assert result.outcome == Outcome.KILLED and "no answer" in result.detail
    assert stand_in.cancels == [False, True]
    assert 2 * GRACE < clock.now <= 2 * GRACE + 2 * WAIT


def test_a_long_job_not_cancelled_is_waited_for(tmp_path, clock):
    stand_in = StandInRay(clock, answers_after=1000)  # far past any grace
    result = backend(stand_in).run(job(tmp_path), Cancel())
    assert result.outcome == Outcome.OK and stand_in.cancels == []


def test_a_lost_cluster_is_said_unless_the_job_was_cancelled(tmp_path, clock):
    lost = ray.exceptions.RaySystemError("the cluster is gone")
    with pytest.raises(BackendUnavailable, match="could not run job j"):
        backend(StandInRay(clock, error=lost)).run(job(tmp_path), Cancel())
    result = backend(StandInRay(clock, error=lost)).run(job(tmp_path), cancelled())
    assert result.outcome == Outcome.KILLED
