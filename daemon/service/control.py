"""The control socket: `nmctl` talks to a running `nmd` in JSON lines.

A Unix stream socket, mode 0660: the file's permissions are the access control.
It lives in systemd's runtime directory when there is one, else in the state
directory. A request is one JSON line, ``{"cmd": "cycle", "name": "alpha"}``;
the answer is JSON lines: progress events for a cycle, then one final line
with ``"ok"`` and either ``"result"`` or ``"error"``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from daemon.errors import Error, NotRunning

log = logging.getLogger("nmd.control")

SOCKET_NAME = "nmd.sock"


def socket_path(state: Path) -> Path:
    """Where the control socket is: systemd's runtime directory, else the state directory."""
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(runtime) / SOCKET_NAME if runtime else Path(state) / SOCKET_NAME


Handler = Callable[[dict[str, Any], Callable[[dict[str, Any]], None]], Any]
"""Answers one request; may send progress events through the callback; returns the result."""


class Server:
    """Accepts connections and answers each on its own thread."""

    def __init__(self, path: Path, handler: Handler) -> None:
        self.path, self.handler = path, handler
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)  # we hold the instance lock: any old socket is stale
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        umask = os.umask(0o117)
        try:
            self.sock.bind(str(self.path))
        finally:
            os.umask(umask)
        os.chmod(self.path, 0o660)
        self.sock.listen(16)
        self.thread = threading.Thread(target=self._serve, name="control", daemon=True)

    def start(self) -> None:
        """Serve in the background."""
        self.thread.start()

    def close(self) -> None:
        """Stop accepting and remove the socket file."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.path.unlink(missing_ok=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as stream:

            def send(message: dict[str, Any]) -> None:
                stream.write(json.dumps(message).encode() + b"\n")
                stream.flush()

            try:
                request = json.loads(stream.readline() or b"{}")
                result = self.handler(request, lambda event: send({"event": event}))
                send({"ok": True, "result": result})
            except (BrokenPipeError, ConnectionResetError):
                return
            except Error as exc:
                send({"ok": False, "error": str(exc)})
            except Exception as exc:
                log.exception("control request failed")
                send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})


def request(path: Path, message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Send one request; yields each answer line (events, then the final one)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        raise NotRunning(path) from None
    with sock, sock.makefile("rwb") as stream:
        stream.write(json.dumps(message).encode() + b"\n")
        stream.flush()
        for line in stream:
            yield json.loads(line)


def call(
    path: Path, message: dict[str, Any], on_event: Callable[[dict[str, Any]], None] | None = None
) -> Any:
    """Send one request and return its result; raises `Error` with the daemon's message."""
    for answer in request(path, message):
        if "event" in answer:
            if on_event:
                on_event(answer["event"])
            continue
        if answer.get("ok"):
            return answer.get("result")
        raise Error(answer.get("error", "the daemon gave no reason"))
    raise Error("the daemon closed the connection without an answer")
