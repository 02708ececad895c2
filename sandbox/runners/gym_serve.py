"""A long-lived gym evaluator: ``python -m nmrunners.gym_serve JOB``.

One of these runs in each sandbox of a `sandbox.gym_pool.GymPool` for a whole
cycle. It connects to the host's Unix socket in the job's port folder (the
only way in or out: the sandbox has no network), loads torch, the environment
and the target's policy class once, says it is ready, then answers requests
(frames, see `frames`) until the host says ``quit`` or closes the socket:

- ``{"op": "evaluate", "genomes": [...], "seeds": [...]}`` with the population's
  weights as the blob: returns and lengths per genome and seed (`gym_run.Player`);
- ``{"op": "describe", "kwargs": {...}}``: the spaces and the parameter layout.

Each request runs under a watchdog (`faulthandler`, a thread of C code): one
that takes longer than the job's ``request_timeout`` ends the process, whatever
the policy code does, and the host replaces the sandbox.
"""

from __future__ import annotations

import faulthandler
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any

from . import frames
from .gym_run import Player, RunnerError

SOCKET = "gym.sock"
STARTED = time.monotonic()


def _connect(port: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with frames.short_path(port, SOCKET) as path:
        sock.connect(path)
    return sock


def answer(player: Player, doc: Any, blob: bytes) -> dict[str, Any]:
    """The reply to one request."""
    import numpy as np

    op = doc.get("op") if isinstance(doc, dict) else None
    if op == "evaluate":
        weights = np.frombuffer(blob, dtype="<f4")
        return player.evaluate(doc["genomes"], [int(s) for s in doc["seeds"]], weights)
    if op == "describe":
        return player.describe(doc.get("kwargs"))
    return {"error": f"unknown request {op!r}"}


def serve(sock: socket.socket, player: Player, request_timeout: float) -> None:
    """Answer requests until ``quit`` or the host closes the socket."""
    while True:
        try:
            doc, blob = frames.receive(sock)
        except frames.FrameError:
            return
        if isinstance(doc, dict) and doc.get("op") == "quit":
            return
        faulthandler.dump_traceback_later(request_timeout, exit=True)
        try:
            reply = answer(player, doc, blob)
        except Exception as exc:
            reply = {"error": f"the request failed: {exc!r}"}
        finally:
            faulthandler.cancel_dump_traceback_later()
        frames.send(sock, reply)


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 when the host ended the session, 2 when the target cannot be loaded."""
    args = sys.argv[1:] if argv is None else argv
    payload = json.loads(Path(args[0]).read_text())["payload"]
    sock = _connect(payload["port"])
    try:
        player = Player(payload)
    except RunnerError as exc:
        frames.send(sock, {"error": str(exc)})
        return 2
    except Exception as exc:
        frames.send(sock, {"error": f"the evaluator failed to start: {exc!r}"})
        return 2
    frames.send(sock, {"ready": True, "startup": round(time.monotonic() - STARTED, 3)})
    serve(sock, player, float(payload["request_timeout"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
