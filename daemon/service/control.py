"""The control socket: `nmctl` talks to a running `nmd` in JSON lines.

A Unix stream socket, mode 0660: the file's permissions are the access control.
It lives in systemd's runtime directory when there is one, else in the state
directory. A request is one JSON line, ``{"cmd": "cycle", "name": "alpha"}``;
the answer is JSON lines: progress events for a cycle, then one final line
with ``"ok"`` and either ``"result"`` or ``"error"``.

Whoever may open the socket must not be able to exhaust the daemon: a request
line has a size cap and must arrive within a deadline, and the number of open
connections is bounded (one thread each). Every mistake a client can make is
answered as a JSON error and logged in one line; a client that goes away
mid-answer is a debug line, and the request it made (a cycle) still runs to its end.
The handler is told through its `Reply` whether the client hung up (`closed`:
its socket closed for good, as when nmctl ends or is interrupted); nmd then
cancels a cycle it asked for that is still queued.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon.errors import Error
from daemon.service.client import call, request

log = logging.getLogger("nmd.control")

__all__ = [
    "MAX_CONNECTIONS",
    "MAX_REQUEST",
    "READ_TIMEOUT",
    "SOCKET_NAME",
    "WRITE_TIMEOUT",
    "Handler",
    "Reply",
    "Server",
    "call",
    "request",
    "socket_path",
]

SOCKET_NAME = "nmd.sock"
MAX_REQUEST = 2**20
"""The longest request line, in bytes."""
READ_TIMEOUT = 10.0
"""Seconds a connection has to send its whole request line."""
MAX_CONNECTIONS = 64
"""Connections open at once; one more is refused."""
WRITE_TIMEOUT = 60.0
"""Seconds one answer line may wait for a client that does not read; then it is dropped."""
_CHUNK = 65536


def socket_path(state: Path) -> Path:
    """Where the control socket is: systemd's runtime directory, else the state directory."""
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(runtime) / SOCKET_NAME if runtime else Path(state) / SOCKET_NAME


Handler = Callable[[dict[str, Any], Callable[[dict[str, Any]], None]], Any]
"""Answers one request; may send progress events through the callback; returns the result.

The callback the server passes is a `Reply`, which also says whether the client left.
"""


class _Refused(Exception):
    """A request the client got wrong: answered as a JSON error and logged in one line."""


class Server:
    """Accepts connections and answers each on its own thread, within bounds.

    Args:
        path: The socket file.
        handler: Answers each request.
        max_request: The longest request line, in bytes; a longer one is refused unread.
        read_timeout: Seconds a connection has to send its request line (the answer,
            however long it streams, is not bounded by it).
        max_connections: Connections open at once; one more is refused at once.
        write_timeout: Seconds an answer line may wait on a client that does not read;
            after that the client counts as gone and the rest of its answer is dropped.
    """

    def __init__(
        self,
        path: Path,
        handler: Handler,
        *,
        max_request: int = MAX_REQUEST,
        read_timeout: float = READ_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        write_timeout: float = WRITE_TIMEOUT,
    ) -> None:
        self.path, self.handler = path, handler
        self.max_request, self.read_timeout = max_request, read_timeout
        self.max_connections, self.write_timeout = max_connections, write_timeout
        self._lock = threading.Lock()
        self._open: dict[socket.socket, bool] = {}  # each connection: still reading its request?
        self._closing = threading.Event()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)  # we hold the instance lock: any old socket is stale
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        umask = os.umask(0o117)
        try:
            self.sock.bind(str(self.path))
        finally:
            os.umask(umask)
        os.chmod(self.path, 0o660)
        self.sock.listen(min(max_connections, 128))
        self.thread = threading.Thread(target=self._serve, name="control", daemon=True)

    @property
    def connections(self) -> int:
        """How many connections are open now."""
        with self._lock:
            return len(self._open)

    def start(self) -> None:
        """Serve in the background."""
        self.thread.start()

    def close(self) -> None:
        """Stop accepting, drop the connections still sending a request, remove the socket file.

        Connections being answered keep their thread, so a running cycle's client still
        gets its final line.
        """
        self._closing.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.path.unlink(missing_ok=True)
        with self._lock:
            for conn, reading in self._open.items():
                if reading:
                    with contextlib.suppress(OSError):
                        conn.shutdown(socket.SHUT_RDWR)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError as exc:
                if self._closing.is_set():
                    return
                log.warning("control: cannot accept a connection: %s", exc)  # e.g. EMFILE
                self._closing.wait(0.1)  # back off rather than spin
                continue
            with self._lock:
                full = len(self._open) >= self.max_connections
                if not full:
                    self._open[conn] = True
            if full:
                _refuse(conn, f"too many connections ({self.max_connections} open)")
                continue
            thread = threading.Thread(target=self._run, args=(conn,), name="control-client")
            thread.daemon = True
            try:
                thread.start()
            except RuntimeError:  # no thread left to give
                with self._lock:
                    del self._open[conn]
                _refuse(conn, "nmd cannot start a thread for it")

    def _run(self, conn: socket.socket) -> None:
        try:
            self._answer(conn, _Client(conn, self.write_timeout))
        except Exception:  # a bug here must not kill more than this connection
            log.exception("control: answering %s failed", _peer(conn))
        finally:
            with self._lock:
                del self._open[conn]
                conn.close()

    def _answer(self, conn: socket.socket, client: _Client) -> None:
        try:
            line = self._read_request(conn)
            if line is None:
                log.debug("control: %s closed without a request", client.who)
                return
            with self._lock:
                self._open[conn] = False
            request = _parse(line)
        except _Refused as exc:
            log.warning("control: refused %s: %s", client.who, exc)
            client.send({"ok": False, "error": str(exc)})
            return
        except OSError as exc:
            log.debug("control: %s went away: %s", client.who, _why(exc))
            return
        self._handle(client, request)

    def _read_request(self, conn: socket.socket) -> bytes | None:
        """The request line, read within the deadline and the size cap.

        Returns None when the client closes (or `close` drops it) before sending anything.

        Raises:
            _Refused: the line is too long or too slow; what is left of it stays unread.
        """
        deadline = time.monotonic() + self.read_timeout
        buffer = bytearray()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Refused(f"no complete request within {self.read_timeout:g} s")
            conn.settimeout(remaining)
            try:
                chunk = conn.recv(min(_CHUNK, self.max_request + 1 - len(buffer)))
            except TimeoutError:
                continue
            if not chunk:  # a last line may lack its newline
                return bytes(buffer) if buffer and not self._closing.is_set() else None
            end = chunk.find(b"\n")
            if end >= 0:
                return bytes(buffer + chunk[:end])
            buffer += chunk
            if len(buffer) > self.max_request:
                raise _Refused(f"request over {_size(self.max_request)}")

    def _handle(self, client: _Client, request: dict[str, Any]) -> None:
        command = request.get("cmd")
        try:
            result = self.handler(request, Reply(client))
            client.send({"ok": True, "result": result})
        except Error as exc:
            log.info(
                "control: %s: %s: %s", client.who, _short(repr(command)), _short(str(exc), 300)
            )
            client.send({"ok": False, "error": str(exc)})
        except Exception as exc:
            log.exception("control: %s: %s failed", client.who, _short(repr(command)))
            client.send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})


class _Client:
    """The answering side of one connection: sends are serialised and stop once it is gone."""

    def __init__(self, conn: socket.socket, write_timeout: float) -> None:
        self.conn, self.write_timeout = conn, write_timeout
        self.who = _peer(conn)
        self.gone = False
        self._lock = threading.Lock()  # a cycle's batches send events from several threads

    def send(self, message: dict[str, Any]) -> None:
        """Send one line; a client that left (or stopped reading) is dropped, in one debug line."""
        data = json.dumps(message).encode() + b"\n"
        with self._lock:
            if self.gone:
                return
            try:
                self.conn.settimeout(self.write_timeout)
                self.conn.sendall(data)
            except OSError as exc:  # BrokenPipeError, ConnectionResetError, TimeoutError
                self.gone = True
                log.debug("control: %s went away: %s", self.who, _why(exc))

    def closed(self) -> bool:
        """Whether the client hung up: its socket is closed for good, not just for writing.

        A client that shuts its writing side after its request (``nc -N``) still
        reads the answer: only a full close (the process ended, or Ctrl-C) counts.
        """
        if self.gone:
            return True
        poller = select.poll()
        poller.register(self.conn, select.POLLHUP)
        try:
            events = poller.poll(0)
        except OSError:
            events = [(self.conn.fileno(), select.POLLERR)]
        hung_up = select.POLLHUP | select.POLLERR | select.POLLNVAL
        if not any(mask & hung_up for _, mask in events):
            return False
        self.gone = True
        log.debug("control: %s hung up", self.who)
        return True


class Reply:
    """What a handler answers through: call it with an event; `closed` if the client left."""

    def __init__(self, client: _Client) -> None:
        self.client = client

    def __call__(self, event: dict[str, Any]) -> None:
        """Send one event line (dropped once the client is gone)."""
        self.client.send({"event": event})

    def closed(self) -> bool:
        """Whether the client hung up (or stopped reading)."""
        return self.client.closed()


def _refuse(conn: socket.socket, reason: str) -> None:
    """Answer `reason` without waiting on the client, and close."""
    log.warning("control: refused %s: %s", _peer(conn), reason)
    with conn, contextlib.suppress(OSError):
        conn.setblocking(False)
        conn.send(json.dumps({"ok": False, "error": reason}).encode() + b"\n")


def _parse(line: bytes) -> dict[str, Any]:
    """The request object of one line.

    Raises:
        _Refused: not JSON, nested too deep, or not an object.
    """
    try:
        request = json.loads(line)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise _Refused(f"request is not valid JSON: {exc}") from None
    except RecursionError:
        raise _Refused("request is nested too deeply") from None
    if not isinstance(request, dict):
        raise _Refused(f"request must be a JSON object, got {type(request).__name__}")
    return request


def _peer(conn: socket.socket) -> str:
    """Who is on the other end, for the log: its process and user."""
    size = struct.calcsize("3i")
    try:
        pid, uid, _ = struct.unpack(
            "3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, size)
        )
    except OSError:
        return "a client"
    return f"client pid {pid} uid {uid}"


def _short(text: str, limit: int = 60) -> str:
    """`text` for the log, cut short: a client chooses it, and may make it a megabyte."""
    return text if len(text) <= limit else text[:limit] + "..."


def _why(exc: OSError) -> str:
    return "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__


def _size(size: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"
