"""One long-lived gym sandbox: a job running `nmrunners.gym_serve`, talked to over a socket.

The host listens on a Unix socket in a fresh port folder, mounted read-only
into the sandbox (`Job.port`); the runner connects, loads torch, the
environment and the policy once, and answers requests until it is told to
quit. The sandbox is an ordinary job under the target's limits (no network,
read-only root, memory cap, non-root), run by the backend in a thread of its
own; only its timeout is the worker's lifetime, while each request has the
target's job timeout, enforced twice: by a watchdog inside and by killing the
sandbox (`Cancel`) from here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

from .backend import Backend
from .cancel import Cancel
from .gym_eval import GymTask
from .job import PORT, SRC, Job, Limits, Outcome, Result
from .runners import frames
from .runners.gym_serve import SOCKET
from .staging import port_folder

GYM_ENV = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
STARTUP = 60.0
"""Seconds a sandbox may take to start, import torch and gymnasium and load the policy."""
SLACK = 10.0
"""Seconds past a request's own limit (the watchdog's) before the host kills the sandbox."""
ENDING = 10.0
"""Seconds a sandbox told to quit may take to end before it is killed."""


class WorkerLost(Exception):
    """The sandbox died, hung or sent something that is not an answer; the message says why."""


class TargetBroken(Exception):
    """The sandbox runs, but the target cannot be played (an unimportable policy, a bad env)."""


class GymWorker:
    """A sandbox that plays episodes on request; starts at once, ready on first use."""

    def __init__(
        self,
        backend: Backend,
        tree: Path,
        task: GymTask,
        limits: Limits,
        *,
        port_root: Path,
        lifetime: float,
        name: str = "gym",
    ) -> None:
        self.name = name
        self.limits = limits
        self.cancel = Cancel()
        self.port = port_folder(port_root)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with frames.short_path(str(self.port), SOCKET) as path:
            self.listener.bind(path)
        (self.port / SOCKET).chmod(0o666)  # the sandbox's user connects to it
        self.listener.listen(1)
        self.sock: socket.socket | None = None
        self.broken: str | None = None
        """Why the target cannot be played here, once the sandbox said so."""
        self.result: Result | None = None
        self.started = time.monotonic()
        self.busy = 0.0
        self.ended = threading.Event()
        job = serve_job(tree, task, limits, lifetime, self.port, name)
        self.thread = threading.Thread(target=self._run, args=(backend, job), daemon=True)
        self.thread.start()

    def _run(self, backend: Backend, job: Job) -> None:
        try:
            self.result = backend.run(job, self.cancel)
        except Exception as exc:  # the backend itself failed (Docker stopped answering)
            self.result = Result(
                Outcome.ERROR, None, time.monotonic() - self.started, detail=str(exc)
            )
        finally:
            self.ended.set()
            with contextlib.suppress(OSError):  # wakes a connect() still waiting for it
                self.listener.shutdown(socket.SHUT_RDWR)

    # --- talking to it --------------------------------------------------------------------------

    def request(self, doc: dict[str, Any], blob: bytes = b"") -> dict[str, Any]:
        """Send one request and wait for its answer.

        Raises:
            WorkerLost: the sandbox died or hung (it is killed) or answered nonsense.
            TargetBroken: the target cannot be loaded in the sandbox.
        """
        sock = self._connected()
        asked = time.monotonic()
        try:
            self.send(doc, blob)
            sock.settimeout(self.limits.timeout + SLACK)
            reply, _ = frames.receive(sock, max_document=self.limits.result)
        except (OSError, frames.FrameError) as exc:
            raise WorkerLost(self._lost(f"no answer: {exc}")) from None
        finally:
            self.busy += time.monotonic() - asked
        if not isinstance(reply, dict):
            raise WorkerLost(self._lost(f"an answer that is not a document: {reply!r:.200}"))
        return reply

    def send(self, doc: dict[str, Any], blob: bytes = b"") -> None:
        """Send one request (`request` waits for the answer)."""
        sock = self._connected()
        sock.settimeout(self.limits.timeout + SLACK)
        try:
            frames.send(sock, doc, blob)
        except OSError as exc:
            raise WorkerLost(self._lost(f"cannot send: {exc}")) from None

    def _connected(self) -> socket.socket:
        if self.broken is not None:
            raise TargetBroken(self.broken)
        if self.sock is not None:
            return self.sock
        self.listener.settimeout(STARTUP)
        try:
            sock, _ = self.listener.accept()
        except OSError as exc:
            raise WorkerLost(self._lost(f"it never connected: {exc}")) from None
        finally:
            self.listener.close()
            (self.port / SOCKET).unlink(missing_ok=True)
        sock.settimeout(STARTUP)
        try:
            hello, _ = frames.receive(sock, max_document=self.limits.result)
        except (OSError, frames.FrameError) as exc:
            sock.close()
            raise WorkerLost(self._lost(f"it never became ready: {exc}")) from None
        if not (isinstance(hello, dict) and hello.get("ready")):
            sock.close()
            error = hello.get("error") if isinstance(hello, dict) else None
            self.broken = str(error or f"an unexpected greeting {hello!r:.200}")
            raise TargetBroken(self.broken)
        self.busy += _seconds(hello.get("startup"))  # its imports, as it measured them
        self.sock = sock
        return sock

    # --- ending it ------------------------------------------------------------------------------

    def kill(self) -> None:
        """Kill the sandbox now (its job ends as `killed`)."""
        self.cancel.set()

    def _lost(self, what: str) -> str:
        """Kill the sandbox and say why it was lost, with the job's own account if it ended."""
        self.kill()
        self.ended.wait(30.0)
        result = self.result
        if result is None or result.outcome is Outcome.OK:
            return f"sandbox {self.name}: {what}"
        detail = result.detail or result.stderr.text[-500:].strip()
        return f"sandbox {self.name} ended ({result.outcome.value}): {detail or what}"

    def stop(self) -> None:
        """Tell the sandbox to quit (kill it if it was never used); `close` waits for it."""
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.settimeout(1.0)
                frames.send(self.sock, {"op": "quit"})
            self.sock.close()
            self.sock = None
        else:
            self.kill()  # never used, or lost: nothing to wait for

    def close(self) -> None:
        """Stop the sandbox, kill it if it does not end, and remove its port folder."""
        self.stop()
        if not self.ended.wait(ENDING):
            self.kill()
        self.thread.join()
        with contextlib.suppress(OSError):
            self.listener.close()
        shutil.rmtree(self.port, ignore_errors=True)

    @property
    def seconds(self) -> float:
        """Seconds the sandbox worked: its start-up and its requests (not its idle waits)."""
        return self.busy


def serve_job(
    tree: Path, task: GymTask, limits: Limits, lifetime: float, port: Path, name: str
) -> Job:
    """The job of one long-lived sandbox: `limits`, with `lifetime` as its whole timeout."""
    payload = {
        "src": SRC,
        "port": PORT,
        "threads": 1,
        "request_timeout": limits.timeout,
        "env": {"id": task.env_id, "kwargs": dict(task.env_kwargs), "max_steps": task.max_steps},
        "policy": {"entry": task.network, "kwargs": dict(task.network_kwargs)},
    }
    return Job(
        tree=tree,
        command=["{python}", "-m", "nmrunners.gym_serve", "/sandbox/job/job.json"],
        limits=dataclasses.replace(limits, timeout=max(lifetime, limits.timeout)),
        env=GYM_ENV,
        payload=payload,
        name=name,
        port=port,
    )


def _seconds(value: Any) -> float:
    """A duration the sandbox reported, or 0 for anything that is not a sane one."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 0.0
    return seconds if 0.0 <= seconds < STARTUP else 0.0
