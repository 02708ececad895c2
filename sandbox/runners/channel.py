"""An authenticated result channel from a runner to the process that started it.

The parent (the launcher for a single run, the batch harness for each forked
candidate) makes two pipes before it starts the runner: one that carries a
fresh random key, written once after the start, and one for the records. The
runner reads the key and closes its pipe before any code of the tree is
imported, keeps it only inside the closure that sends records, and sends every
record as one line: an HMAC-SHA256 of its content, then the content, a JSON
list of a sequence number, a kind and a body. The parent accepts a stream only
when every record has a valid MAC, the sequence numbers run 0, 1, 2... and it
ends with exactly one ``end`` record; anything else is a forgery.

No file is involved, so nothing on the sandbox's writable filesystems can stand
in for a result, and a candidate that finds the record pipe through
/proc/self/fd can only write lines that fail their MAC (or cut the stream
short), which fails the candidate; a forged result file is never read.

What this does not stop: the candidate runs in the runner's own process, so
code that walks the stack (the runner's frames hold the sending closure) or
scans memory (the closure's cells, ``gc``, raw memory through ctypes) can
find the HMAC state and sign what it likes. The other layers are there for
that: the runner's integrity checks and the independent verification of an
accepted candidate in a fresh container.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import secrets
from collections.abc import Callable
from typing import Any

from .capture import CappedStream

ENV = "NM_CHANNEL"
"""Environment variable naming the key and record descriptors of a launched runner."""
KEY_BYTES = 32
TAMPERED = "result channel tampered with: possible forgery"
OVERHEAD = 1024
"""Bytes of framing (MACs, sequence numbers, the end record) on top of the result itself."""

Send = Callable[[str, Any], None]


class Link:
    """The parent's side of one channel, made before the runner starts."""

    def __init__(self) -> None:
        self.key_read, self._key_write = os.pipe()
        self.records, self.record_write = os.pipe()

    def child_fds(self) -> tuple[int, int]:
        """The descriptors the runner inherits: the key's and the records'."""
        return self.key_read, self.record_write

    def in_child(self) -> None:
        """In a forked child: drop the parent's ends."""
        os.close(self._key_write)
        os.close(self.records)

    def started(self) -> bytes:
        """After the start: send a fresh key, drop the child's ends, and return the key.

        The key is made only now, so a forked child never holds it in the
        memory it copied from the parent.
        """
        key = secrets.token_bytes(KEY_BYTES)
        os.write(self._key_write, key)  # 32 bytes: far below a pipe's atomic size
        for fd in (self._key_write, self.key_read, self.record_write):
            os.close(fd)
        return key


def _read_key(fd: int) -> bytes:
    key = b""
    while len(key) < KEY_BYTES:
        chunk = os.read(fd, KEY_BYTES - len(key))
        if not chunk:
            raise RuntimeError("the result channel's key pipe closed early")
        key += chunk
    os.close(fd)
    return key


def sender(key_fd: int, record_fd: int) -> Send:
    """Read the key (closing its descriptor) and return the function that sends records.

    Call it before anything of the tree is imported. The key lives on only as
    the HMAC state inside the returned closure.
    """
    signer = hmac.new(_read_key(key_fd), digestmod=hashlib.sha256)
    os.set_inheritable(record_fd, False)  # a subprocess of the candidate gets no copy
    numbers = itertools.count()

    def send(kind: str, body: Any) -> None:
        content = json.dumps([next(numbers), kind, body]).encode()
        mac = signer.copy()
        mac.update(content)
        data = mac.hexdigest().encode() + b" " + content + b"\n"
        while data:
            data = data[os.write(record_fd, data) :]

    return send


def sender_from_env() -> Send:
    """The sender of a runner started by the launcher, from `ENV` (removed from the environment)."""
    key_fd, record_fd = (int(fd) for fd in os.environ.pop(ENV).split(","))
    return sender(key_fd, record_fd)


def receive(data: bytes, key: bytes) -> tuple[dict[str, Any], str | None]:
    """Check a record stream; returns ({kind: body}, None) or ({}, why it is refused).

    An empty stream is no result at all (the runner never reported), not a forgery.
    """
    if not data:
        return {}, None
    if not data.endswith(b"\n"):
        return {}, TAMPERED
    bodies: dict[str, Any] = {}
    lines = data[:-1].split(b"\n")
    for number, line in enumerate(lines):
        mac, _, content = line.partition(b" ")
        expected = hmac.new(key, content, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(mac, expected):
            return {}, TAMPERED
        try:
            seq, kind, body = json.loads(content)
        except (ValueError, TypeError):
            return {}, TAMPERED
        last = number == len(lines) - 1
        if seq != number or kind in bodies or (kind == "end") != last:
            return {}, TAMPERED
        bodies[kind] = body
    return bodies, None


def result(stream: CappedStream, key: bytes, limit: int) -> tuple[Any, str | None]:
    """The result document a runner sent over `stream`, or (None, why there is none)."""
    if stream.total > limit + OVERHEAD:
        return None, f"result over the limit of {limit} bytes"
    bodies, error = receive(bytes(stream.kept), key)
    if error is None and bodies and "result" not in bodies:
        error = TAMPERED
    return (None, error) if error else (bodies.get("result"), None)
