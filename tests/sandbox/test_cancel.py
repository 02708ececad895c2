"""Cancelling a running job from another thread: at once, once, and only while it runs."""

from __future__ import annotations

import threading

from sandbox.cancel import Cancel, cancellable
from sandbox.job import Job, Limits, Outcome

from ..fakes.local_backend import LocalBackend


def test_set_runs_the_registered_action_once_and_only_while_registered():
    cancel, calls = Cancel(), []
    with cancel.on_set(lambda: calls.append("kill")):
        cancel.set()
        cancel.set()
    assert calls == ["kill"] and cancel.is_set()
    other = Cancel()
    with other.on_set(lambda: calls.append("late")):
        pass
    other.set()  # the job had ended: nothing to kill
    assert calls == ["kill"]


def test_an_action_registered_after_set_runs_at_once():
    cancel, calls = Cancel(), []
    cancel.set()
    with cancellable(cancel, lambda: calls.append("kill")):
        assert calls == ["kill"]
    with cancellable(None, lambda: calls.append("never")):
        pass
    assert calls == ["kill"]


def test_a_cancelled_job_is_killed_at_once(tmp_path):
    # The local test backend (no isolation) runs the real launcher; Docker and
    # bubblewrap register their own kill (tests/sandbox/test_gym_pool.py).
    tree = tmp_path / "tree"
    tree.mkdir(mode=0o755)
    (tree / "forever.py").write_text("import signal\nsignal.pause()\n")  # never ends by itself
    job = Job(
        tree=tree, command=["{python}", "/sandbox/src/forever.py"], limits=Limits(timeout=600)
    )
    cancel, done = Cancel(), {}
    runner = threading.Thread(target=lambda: done.update(r=LocalBackend(tmp_path).run(job, cancel)))
    runner.start()
    cancel.set()
    runner.join(timeout=60)
    assert not runner.is_alive()
    assert done["r"].outcome in (Outcome.KILLED, Outcome.ERROR, Outcome.FAILED)
    assert done["r"].wall_time < 60
