"""Length-prefixed messages over a Unix socket: a JSON document and a binary blob.

A long-lived runner (`gym_serve`) and the host (`sandbox.gym_pool`) talk in
frames: 8 bytes (the document's and the blob's lengths, little-endian u32),
the document as UTF-8 JSON, then the blob (a population's weights, which JSON
would carry poorly). A reader refuses a frame over its size limits before
reading it, so a runner cannot make the host hold an unbounded reply.

Standard library only, like every runner.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
from collections.abc import Iterator
from typing import Any

HEADER = struct.Struct("<II")
MAX_DOCUMENT = 64 * 1024**2
MAX_BLOB = 1024**3


class FrameError(ConnectionError):
    """The peer closed the socket, or sent something that is not a frame."""


def send(sock: socket.socket, doc: Any, blob: bytes = b"") -> None:
    """Send one frame."""
    data = json.dumps(doc).encode()
    sock.sendall(HEADER.pack(len(data), len(blob)) + data)
    if blob:
        sock.sendall(blob)


def _exactly(sock: socket.socket, count: int) -> bytes:
    buffer = bytearray(count)
    view, got = memoryview(buffer), 0
    while got < count:
        n = sock.recv_into(view[got:])
        if n == 0:
            raise FrameError("the peer closed the connection")
        got += n
    return bytes(buffer)


def receive(
    sock: socket.socket, max_document: int = MAX_DOCUMENT, max_blob: int = MAX_BLOB
) -> tuple[Any, bytes]:
    """Receive one frame: (document, blob).

    Raises:
        FrameError: the connection closed, or the frame is oversized or not JSON.
    """
    size, blob_size = HEADER.unpack(_exactly(sock, HEADER.size))
    if size > max_document or blob_size > max_blob:
        raise FrameError(f"a frame of {size} + {blob_size} bytes is over the limits")
    try:
        doc = json.loads(_exactly(sock, size))
    except ValueError as exc:
        raise FrameError(f"a frame that is not JSON: {exc}") from None
    return doc, _exactly(sock, blob_size) if blob_size else b""


@contextlib.contextmanager
def short_path(directory: str, name: str) -> Iterator[str]:
    """A path to `directory/name` under the 108-byte limit of socket paths, for the block.

    The path goes through ``/proc/self/fd`` of a descriptor of the folder, open
    while the block runs, so a deep state directory still works.
    """
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{name}"
    finally:
        os.close(fd)
