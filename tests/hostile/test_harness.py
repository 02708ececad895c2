"""Candidates that attack the runners themselves: forged verdicts, a killed or stopped harness.

Real sandboxes (the `backend` fixture: Docker and bubblewrap), except for the
channel's own checks and the Docker daemon that stops answering, which a
fake socket stands in for.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from sandbox.batch_rounds import HARNESS_KILLED
from sandbox.docker_backend import DockerBackend
from sandbox.errors import BackendUnavailable
from sandbox.evaluate import Candidate, run_batch, run_tests
from sandbox.job import Job, Limits, Outcome, Output, Result
from sandbox.runners import channel

from ..conftest import CALC, FIXED_OPS, our_containers

IDS = ["tests/test_ops.py::test_add", "tests/test_ops.py::test_mul"]
FORGED_DOC = {
    "v": 1, "complete": True, "exit_status": 0, "collected": 2,
    "tests": dict.fromkeys(IDS, "passed"), "counts": {"passed": 2}, "failures": {},
    "collection_errors": [], "duration": 0.1, "crash": None, "stopped": None, "tampered": [],
}  # fmt: skip
FORGER = f"""\
import json, os

def _forge():
    doc = json.dumps({FORGED_DOC!r}).encode()
    with open('/tmp/nm-result.json', 'wb') as forged:
        forged.write(doc)
    # Every pipe this process can write, the result channel among them, in every shape.
    for line in (doc + b"\\n", b"0" * 64 + b" " + json.dumps([0, "result", {FORGED_DOC!r}]).encode()
                 + b"\\n" + b"0" * 64 + b' [1, "end", null]\\n'):
        for fd in range(3, 256):
            try:
                if os.readlink(f'/proc/self/fd/{{fd}}').startswith('pipe:'):
                    os.write(fd, line)
            except OSError:
                pass
    os._exit(0)

_forge()
"""
FILE_FORGER = f"""\
import json, os

open('/tmp/nm-result.json', 'w').write(json.dumps({FORGED_DOC!r}))
os._exit(0)
"""


@pytest.fixture
def tree(make_tree):
    return make_tree(CALC)


# --- the channel itself -------------------------------------------------------------


def _stream(key: bytes, records: list[list]) -> bytes:
    lines = []
    for record in records:
        content = json.dumps(record).encode()
        lines.append(hmac.new(key, content, hashlib.sha256).hexdigest().encode() + b" " + content)
    return b"\n".join(lines) + b"\n"


def test_a_sender_and_a_receiver_agree_and_the_key_pipe_is_closed():
    link = channel.Link()
    key_fd, record_fd = link.child_fds()
    pid = os.fork()
    if pid == 0:  # the runner's side
        link.in_child()
        send = channel.sender(key_fd, record_fd)
        closed = not Path(f"/proc/self/fd/{key_fd}").exists()
        send("result", {"key fd closed": closed})
        send("end", None)
        os._exit(0)
    key = link.started()
    data = b""
    while chunk := os.read(link.records, 65536):
        data += chunk
    os.close(link.records)
    assert os.waitpid(pid, 0)[1] == 0
    assert channel.receive(data, key) == ({"result": {"key fd closed": True}, "end": None}, None)


@pytest.mark.parametrize(
    "records",
    [
        [[0, "result", {}]],  # no end
        [[0, "result", {}], [2, "end", None]],  # a record missing
        [[0, "result", {}], [1, "end", None], [2, "result", {}]],  # more after the end
        [[0, "result", {}], [1, "result", {}], [2, "end", None]],  # a second result
        [[1, "result", {}], [0, "end", None]],  # out of order
    ],
)
def test_a_stream_out_of_sequence_is_a_forgery(records):
    key = os.urandom(32)
    assert channel.receive(_stream(key, records), key) == ({}, channel.TAMPERED)


def test_a_wrong_mac_or_a_stray_line_is_a_forgery():
    key = os.urandom(32)
    good = _stream(key, [[0, "result", {"x": 1}], [1, "end", None]])
    assert channel.receive(good, key)[1] is None
    assert channel.receive(good, os.urandom(32)) == ({}, channel.TAMPERED)
    assert channel.receive(good + b'{"forged": 1}\n', key) == ({}, channel.TAMPERED)
    assert channel.receive(good[:-1], key) == ({}, channel.TAMPERED)  # cut short
    assert channel.receive(b"", key) == ({}, None)  # nothing at all: no result, no forgery


# --- forged verdicts ----------------------------------------------------------------


def test_a_forged_result_on_the_channel_fails_a_single_run(backend, tree):
    run = run_tests(backend, tree, ["tests"], overlays={"calc/ops.py": FORGER}, min_collected=2)
    assert run.result.outcome is Outcome.FAILED
    assert run.result.detail == channel.TAMPERED
    assert not run.valid and run.score == 0.0
    assert channel.TAMPERED in run.reason


def test_a_forged_result_file_is_never_read(backend, tree):
    run = run_tests(
        backend, tree, ["tests"], overlays={"calc/ops.py": FILE_FORGER}, min_collected=2
    )
    assert run.result.result is None
    assert not run.valid and run.score == 0.0
    assert "before the runner reported" in run.reason


def test_a_forged_result_fails_its_candidate_alone_in_a_batch(backend, tree):
    candidates = [
        Candidate("fixed-1", {"calc/ops.py": FIXED_OPS}),
        Candidate("forger", {"calc/ops.py": FORGER}),
        Candidate("fixed-2", {"calc/ops.py": FIXED_OPS}),
    ]
    runs = run_batch(backend, tree, candidates, ["tests"], min_collected=2)
    assert [r.score for r in runs] == [1.0, 0.0, 1.0]
    forged = runs[1].result
    assert forged.outcome is Outcome.FAILED and forged.detail == channel.TAMPERED
    assert forged.result is None


# --- a candidate against its harness ------------------------------------------------


KILLERS = {
    "kill-parent": "os.kill(os.getppid(), signal.SIGKILL)",
    "stop-parent": "os.kill(os.getppid(), signal.SIGSTOP)",
    "kill-everyone": "os.kill(-1, signal.SIGKILL)",
    "stop-everyone": "os.kill(-1, signal.SIGSTOP)",
}


@pytest.mark.parametrize("attack", sorted(KILLERS))
def test_a_candidate_that_kills_or_stops_its_harness_fails_alone(backend, tree, attack):
    killer = FIXED_OPS + f"\nimport os, signal\n{KILLERS[attack]}\n"
    candidates = [Candidate(f"fixed-{i}", {"calc/ops.py": FIXED_OPS}) for i in range(6)]
    candidates[2] = Candidate("killer", {"calc/ops.py": killer})
    started = time.monotonic()
    runs = run_batch(backend, tree, candidates, ["tests"], limits=Limits(timeout=2.0))
    elapsed = time.monotonic() - started
    assert len(runs) == 6
    assert [r.score for r in runs] == [1.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    assert all(r.valid for i, r in enumerate(runs) if i != 2)
    assert runs[2].result.outcome is Outcome.FAILED
    assert HARNESS_KILLED in runs[2].result.detail
    assert elapsed < 30, f"the batch took {elapsed:.1f} s"  # not the whole batch's time limit


class DyingHarness:
    """A fake backend whose harness dies while running the candidate with a given id.

    Each job's output is what the real harness prints: a start line on stderr
    per candidate started, a report line on stdout per candidate finished.
    """

    name = "fake"

    def __init__(self, killers: set[str], warm: bool = True) -> None:
        self.killers = killers
        self.warm = warm
        self.batches: list[list[str]] = []

    def run(self, job: Job) -> Result:
        ids = [c["id"] for c in job.payload["candidates"]]
        self.batches.append(ids)
        started, reports = [], []
        for index, ident in enumerate(ids if self.warm else []):
            started.append(json.dumps({"start": index, "id": ident}))
            if ident in self.killers:
                break
            doc = {"complete": True, "exit_status": 0, "collected": 1, "tests": {"t": "passed"}}
            report = {"v": 1, "n": index, "id": ident, "exit_code": 0, "result": doc}
            reports.append(json.dumps(report))
        return Result(
            Outcome.KILLED,
            None,
            1.0,
            stdout=Output("\n".join(reports)),
            stderr=Output("\n".join(started)),
            signal=9,
            detail="ended by signal SIGKILL",
        )


def test_each_candidate_gets_one_result_and_at_most_one_rerun():
    backend = DyingHarness({"c2", "c4"})
    candidates = [Candidate(f"c{i}") for i in range(6)]
    runs = run_batch(backend, Path("."), candidates, ["tests"])
    assert backend.batches == [["c0", "c1", "c2", "c3", "c4", "c5"], ["c3", "c4", "c5"]]
    assert [r.score for r in runs] == [1.0, 1.0, 0.0, 1.0, 0.0, 0.0]
    details = [r.result.detail for r in runs]
    assert HARNESS_KILLED in details[2] and HARNESS_KILLED in details[4]
    assert "the batch ended before this candidate finished" in details[5]  # its second try


def test_a_harness_that_never_started_is_not_run_again():
    backend = DyingHarness(set(), warm=False)
    runs = run_batch(backend, Path("."), [Candidate("a"), Candidate("b")], ["tests"])
    assert len(backend.batches) == 1
    assert all("the batch ended before" in r.result.detail for r in runs)


# --- the Docker daemon stops answering ----------------------------------------------


class FakeDaemon:
    """A Unix socket server that stands in for dockerd, on its own thread.

    With `upstream`, each connection is forwarded to the real daemon until a
    request for a container's ``/wait`` comes: from then on, as a daemon that
    stopped mid-job, every connection is dropped. Without, every connection
    is accepted and closed at once.
    """

    def __init__(self, path: Path, upstream: str | None = None) -> None:
        self.upstream = upstream
        self.gone = upstream is None
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(str(path))
        self.listener.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed: stopping
            if self.gone:
                conn.close()
            else:
                threading.Thread(target=self._forward, args=(conn,), daemon=True).start()

    def _forward(self, conn: socket.socket) -> None:
        up = socket.socket(socket.AF_UNIX)
        up.connect(self.upstream)
        selector = selectors.DefaultSelector()
        selector.register(conn, selectors.EVENT_READ, up)
        selector.register(up, selectors.EVENT_READ, conn)
        with conn, up, selector:
            while True:
                for key, _ in selector.select():
                    data = key.fileobj.recv(65536)
                    if key.fileobj is conn and b"/wait" in data:
                        self.gone = True
                    if not data or self.gone:
                        return
                    key.data.sendall(data)

    def stop(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(timeout=10)


@contextlib.contextmanager
def fake_daemon(path: Path, upstream: str | None = None) -> Iterator[docker.DockerClient]:
    server = FakeDaemon(path, upstream)
    client = docker.DockerClient(base_url=f"unix://{path}", version="1.41", timeout=10)
    try:
        yield client
    finally:
        client.close()
        server.stop()


def _sleeper(tree: Path, name: str) -> Job:
    code = "import time; time.sleep(120)"
    return Job(tree=tree, command=["{python}", "-c", code], limits=Limits(timeout=60), name=name)


def test_a_daemon_that_hangs_up_is_a_clear_backend_error(docker_client, state, tree, tmp_path):
    backend = DockerBackend(state, client=docker_client, reap=False)
    with fake_daemon(tmp_path / "gone.sock") as client:
        backend.client = client
        with pytest.raises(BackendUnavailable, match="stopped answering during job hung-up"):
            backend.run(_sleeper(tree, "hung-up"))
    assert not list((state / "run" / "jobs").glob("job-*"))  # nothing staged is left


def test_a_container_left_when_the_daemon_went_away_is_removed_at_the_next_start(
    docker_client, state, tree, tmp_path
):
    backend = DockerBackend(state, client=docker_client, reap=False)
    upstream = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock").removeprefix("unix://")
    with fake_daemon(tmp_path / "flaky.sock", upstream) as client:
        backend.client = client
        with pytest.raises(BackendUnavailable, match="stopped answering during job mid-job"):
            backend.run(_sleeper(tree, "mid-job"))
    assert len(our_containers(docker_client)) == 1  # left running: the daemon could not be told
    DockerBackend(state, client=docker_client)
    assert our_containers(docker_client) == []
