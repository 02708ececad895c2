"""The client side of the control socket: one request, its answer lines, its result.

`nmctl` sends one JSON line and reads JSON lines back (events, then one final
line with ``"ok"``); see `daemon.service.control` for the server. Closing the
connection before the final line is how a client cancels a cycle still queued.
"""

from __future__ import annotations

import contextlib
import grp
import json
import socket
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from daemon.errors import Error, NotRunning, SocketDenied


def _group_of(path: Path) -> str | None:
    """The group that owns the socket (or its folder, if that cannot be read), by name."""
    for candidate in (path, path.parent):
        try:
            gid = candidate.stat().st_gid
        except OSError:
            continue
        try:
            return grp.getgrgid(gid).gr_name
        except KeyError:
            return str(gid)
    return None


def request(path: Path, message: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
    """Send one request; yields each answer line (events, then the final one).

    Raises:
        NotRunning: no nmd listens on `path`.
        SocketDenied: the user may not open the socket.
        Error: the socket cannot be reached otherwise, or an answer line is not JSON.
    """
    sock = _connect(path)
    with sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # nmd refused it:
            sock.sendall(json.dumps(message).encode() + b"\n")  # its answer, if any, says why
        with sock.makefile("rb") as stream:
            for line in _lines(stream):
                try:
                    yield json.loads(line)
                except ValueError:
                    raise Error(f"nmd's socket {path} answered something else than JSON") from None


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        raise NotRunning(path) from None
    except PermissionError:
        sock.close()
        raise SocketDenied(path, _group_of(Path(path))) from None
    except OSError as exc:
        sock.close()
        raise Error(f"cannot reach nmd's socket at {path}: {exc.strerror or exc}") from None
    return sock


def _lines(stream: Any) -> Iterator[bytes]:
    """The stream's lines until it ends, or until nmd resets the connection."""
    with contextlib.suppress(ConnectionResetError):
        yield from stream


def call(
    path: Path, message: dict[str, Any], on_event: Callable[[dict[str, Any]], None] | None = None
) -> Any:
    """Send one request and return its result; raises `Error` with the daemon's message.

    The connection is closed on the way out, whatever ends it (Ctrl-C included):
    closing it is how a client tells nmd it no longer waits.
    """
    with contextlib.closing(request(path, message)) as answers:
        for answer in answers:
            if "event" in answer:
                if on_event:
                    on_event(answer["event"])
                continue
            if answer.get("ok"):
                return answer.get("result")
            raise Error(answer.get("error", "the daemon gave no reason"))
    raise Error("the daemon closed the connection without an answer")
