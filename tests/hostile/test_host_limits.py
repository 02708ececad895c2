"""Limits on the host side: what a hostile target or socket client can make nmd spend.

A real `Server` on a Unix socket in the test's folder, with a trivial handler,
stands in for nmd's control socket (it runs on threads of this process, so the
process's own memory and thread count are the server's). Target files and
rewritable sources are refused over their size limits before being read or
parsed, and enumeration stays bounded just under the limit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import resource
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon.cli.main import main
from daemon.errors import Error, TargetError
from daemon.registry import load_registry, load_target
from daemon.service import control
from daemon.service.control import Server
from policies.codemods import MutationError, enumerate_mutations
from policies.codemods.catalogue import MAX_MUTATIONS, MAX_SOURCE_BYTES

from ..daemon.test_cycle import cycle, make_target

MiB = 2**20
TARGET = 'name = "beta"\nrepo = "{state}/bots/beta"\nfiles = ["beta/*.py"]\n'
BLOCK = '''
def clamp_{i:07d}(values, limit=10):
    """Clamp block {i:07d}."""
    total = 0
    for k in range(len(values)):
        if values[k] < limit and k > 1:
            total += values[k] * 2 - 1
        elif not values[k]:
            return None
    return min(total, limit) if total >= 0 else max(total, -limit)
'''


def python_source(size: int) -> str:
    """A valid Python module of at most `size` bytes (less by under 400): small functions."""
    return "".join(BLOCK.format(i=i) for i in range(size // len(BLOCK.format(i=0))))


def rss() -> int:
    """This process's resident memory now, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def client_threads() -> int:
    """How many threads answer a control connection now (each test starts and ends at 0)."""
    return sum(thread.name == "control-client" for thread in threading.enumerate())


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def echo(request: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> Any:
    """The trivial handler: the request back."""
    return request


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start a `Server` on a socket in `tmp_path` (limits as keywords); closed after the test."""
    servers: list[Server] = []

    def start(handler: control.Handler = echo, **limits: Any) -> Server:
        server = Server(tmp_path / f"nmd{len(servers)}.sock", handler, **limits)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def connect(server: Server) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(server.path))
    return sock


def answer(sock: socket.socket, timeout: float = 10.0) -> dict[str, Any]:
    """The first line the server sends, parsed."""
    sock.settimeout(timeout)
    with sock.makefile("rb") as stream:
        return json.loads(stream.readline())


def closed(sock: socket.socket) -> bool:
    """Whether the server closed `sock` (a reset when it left some of our bytes unread)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], caplog.text


# --- the control socket ----------------------------------------------------------------------


def test_a_512_mib_request_is_refused_unread_and_costs_no_memory(serve, caplog):
    server = serve()
    chunk = b"x" * 65536
    before = rss()
    sent = 0
    with connect(server) as sock:
        try:
            while sent < 512 * MiB:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed it: stop sending
        assert answer(sock) == {"ok": False, "error": "request over 1 MiB"}
    growth = rss() - before
    assert sent < 16 * MiB, "the server went on reading past its cap"
    assert growth < 8 * MiB, f"memory grew by {growth / MiB:.1f} MiB"
    wait_for(lambda: server.connections == 0)
    refusals = [r for r in caplog.records if "request over 1 MiB" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].levelno == logging.WARNING
    no_tracebacks(caplog)


def test_connections_over_the_bound_are_refused_at_once(serve, caplog):
    server = serve(read_timeout=60.0, max_connections=64)
    assert client_threads() == 0
    clients = [connect(server) for _ in range(500)]
    refused = set(clients[64:])
    try:
        with selectors.DefaultSelector() as selector:
            for sock in clients:
                selector.register(sock, selectors.EVENT_READ)
            ready: set[socket.socket] = set()

            def all_refused() -> bool:
                ready.update(key.fileobj for key, _ in selector.select(0))
                return ready >= refused

            wait_for(all_refused)
        assert ready == refused, "a connection within the bound was refused"
        assert server.connections == 64
        assert client_threads() == 64
        for sock in refused:
            assert answer(sock) == {"ok": False, "error": "too many connections (64 open)"}
            assert closed(sock)
    finally:
        for sock in clients:
            sock.close()
    wait_for(lambda: server.connections == 0 and client_threads() == 0)
    no_tracebacks(caplog)


def test_idle_and_slow_connections_are_closed_after_the_timeout(serve, caplog):
    server = serve(read_timeout=0.5)
    begin = time.monotonic()
    idle = [connect(server) for _ in range(64)]
    slow = idle.pop()
    slow.setblocking(False)
    waiter = selectors.DefaultSelector()
    waiter.register(slow, selectors.EVENT_READ)
    while not waiter.select(0.05):  # a byte every 50 ms never completes a request
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            slow.send(b" ")
        assert time.monotonic() - begin < 10
    waiter.close()
    slow.setblocking(True)
    for sock in [*idle, slow]:
        assert answer(sock) == {"ok": False, "error": "no complete request within 0.5 s"}
        assert closed(sock)
        sock.close()
    assert time.monotonic() - begin < 10
    wait_for(lambda: server.connections == 0 and client_threads() == 0)
    with connect(server) as sock:  # the slots are free again
        sock.sendall(b'{"cmd": "status"}\n')
        assert answer(sock) == {"ok": True, "result": {"cmd": "status"}}
    no_tracebacks(caplog)


def test_a_streaming_answer_is_not_cut_by_the_read_timeout(serve):
    def long_cycle(request: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> Any:
        for step in range(5):
            send({"step": step})
            threading.Event().wait(0.1)  # work that outlasts the read timeout
        return "done"

    server = serve(long_cycle, read_timeout=0.1)
    events: list[dict[str, Any]] = []
    assert control.call(server.path, {"cmd": "cycle"}, events.append) == "done"
    assert events == [{"step": step} for step in range(5)]


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"{not json\n", "request is not valid JSON: "),
        (b"\xff\xfe\xfd\n", "request is not valid JSON: "),
        (b"[1, 2]\n", "request must be a JSON object, got list"),
        (b"[" * 200_000 + b"]" * 200_000 + b"\n", "request is nested too deeply"),
    ],
    ids=["syntax", "bytes", "list", "deep"],
)
def test_a_malformed_request_is_a_json_error_and_one_log_line(serve, caplog, line, error):
    server = serve()
    with connect(server) as sock:
        sock.sendall(line)
        reply = answer(sock)
    assert reply["ok"] is False and reply["error"].startswith(error)
    wait_for(lambda: server.connections == 0)
    logged = [r for r in caplog.records if r.name == "nmd.control"]
    assert len(logged) == 1 and "\n" not in logged[0].getMessage()
    no_tracebacks(caplog)


def test_a_handlers_error_is_answered_and_logged_in_one_short_line(serve, caplog):
    def refuse(request: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> Any:
        raise Error(f"no target named {request['name']!r}")

    caplog.set_level(logging.INFO, logger="nmd.control")
    server = serve(refuse)
    name = "x" * (MiB - 100)
    with pytest.raises(Error, match=r"^no target named 'xxx"):
        control.call(server.path, {"cmd": "cycle\nforged line", "name": name})
    (line,) = [r.getMessage() for r in caplog.records if r.name == "nmd.control"]
    assert len(line) < 500 and "\n" not in line
    no_tracebacks(caplog)


def test_a_client_that_leaves_mid_answer_is_a_debug_line_and_the_work_goes_on(serve, caplog):
    caplog.set_level(logging.DEBUG, logger="nmd.control")
    left, finished = threading.Event(), threading.Event()

    def cycle(request: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> Any:
        send({"phase": "baseline"})
        left.wait(10)
        for step in range(3):
            send({"step": step})  # to nobody: dropped, the cycle is not interrupted
        finished.set()
        return "report"

    server = serve(cycle)
    with connect(server) as sock:
        sock.sendall(b'{"cmd": "cycle", "name": "alpha"}\n')
        assert answer(sock) == {"event": {"phase": "baseline"}}
    left.set()
    assert finished.wait(10)
    wait_for(lambda: server.connections == 0)
    gone = [r for r in caplog.records if "went away" in r.getMessage()]
    assert len(gone) == 1 and gone[0].levelno == logging.DEBUG
    no_tracebacks(caplog)


def test_stopping_the_server_with_waiting_clients_logs_no_traceback(serve, caplog):
    caplog.set_level(logging.DEBUG, logger="nmd.control")
    release = threading.Event()

    def cycle(request: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> Any:
        send({"phase": "baseline"})
        release.wait(10)
        return "nmd is stopping"

    server = serve(cycle)
    waiting, idle = connect(server), connect(server)
    waiting.sendall(b'{"cmd": "cycle"}\n')
    assert answer(waiting) == {"event": {"phase": "baseline"}}
    wait_for(lambda: server.connections == 2)
    server.close()
    assert idle.recv(1) == b""  # a connection still reading its request is dropped
    waiting.close()  # the other client gives up, its answer still running
    release.set()
    wait_for(lambda: server.connections == 0 and client_threads() == 0)
    assert not server.thread.is_alive()
    idle.close()
    no_tracebacks(caplog)


def test_a_request_over_the_cap_from_nmctl_is_the_servers_error(serve):
    server = serve(max_request=1024)
    with pytest.raises(Error, match=r"^request over 1 KiB$"):
        control.call(server.path, {"cmd": "status", "padding": "x" * MiB})


def test_a_socket_the_user_may_not_open_is_a_clear_error(tmp_path, monkeypatch, capsys):
    # As root, file modes never give EACCES: connect() is made to raise what a user outside
    # the socket's group gets.
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    path = tmp_path / control.SOCKET_NAME
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))

        def denied(self: socket.socket, address: Any) -> None:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(socket.socket, "connect", denied)
        with pytest.raises(Error) as caught:
            control.call(path, {"cmd": "status"})
        message = str(caught.value)
        assert message.startswith(f"cannot reach nmd's socket at {path}: permission denied")
        assert "join its group" in message and "or run nmctl with sudo" in message
        assert main(["status", "--state", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nmctl: cannot reach nmd's socket") and err.count("\n") == 1
    assert "Traceback" not in err


# --- target files and rewritable sources -----------------------------------------------------


def test_a_5_mb_target_file_is_refused_with_the_limit(tmp_path, monkeypatch):
    monkeypatch.delenv("NEUROMUTANT_MAX_TARGET_FILE", raising=False)
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "alpha.toml").write_text(TARGET.replace("beta", "alpha"))
    big = targets / "beta.toml"
    big.write_text(TARGET + ("# padding " + "x" * 90 + "\n") * 52_000)  # 5.0 MiB
    begin = time.monotonic()
    with pytest.raises(TargetError) as caught:
        load_target(big, tmp_path / "state")
    assert time.monotonic() - begin < 1
    assert str(caught.value) == (
        f"{big}: 5.0 MiB is over the limit of 256 KiB for a target file "
        "(raise $NEUROMUTANT_MAX_TARGET_FILE to allow it)"
    )
    registry = load_registry(targets, tmp_path / "state")
    assert list(registry.targets) == ["alpha"] and list(registry.errors) == [big]
    monkeypatch.setenv("NEUROMUTANT_MAX_TARGET_FILE", "8m")
    assert load_target(big, tmp_path / "state").name == "beta"


def test_a_5_mb_source_file_is_refused_fast_with_its_size_and_the_limit(monkeypatch):
    monkeypatch.delenv("NEUROMUTANT_MAX_SOURCE_FILE", raising=False)
    source = python_source(5 * MiB)
    begin = time.monotonic()
    with pytest.raises(MutationError) as caught:
        enumerate_mutations(source, "bot/huge.py")
    assert time.monotonic() - begin < 1
    assert str(caught.value) == (
        "bot/huge.py: 5.0 MiB is over the limit of 128 KiB for a rewritable file "
        "(raise $NEUROMUTANT_MAX_SOURCE_FILE to allow it)"
    )


@pytest.mark.slow  # a whole cycle on the local backend: several seconds
def test_a_cycle_skips_a_source_over_the_limit_in_one_log_line(
    tmp_path, local_backend, caplog, monkeypatch
):
    monkeypatch.delenv("NEUROMUTANT_MAX_SOURCE_FILE", raising=False)
    targets, state = make_target(tmp_path)
    (tmp_path / "example" / "calc" / "huge.py").write_text(python_source(200 * 1024))
    report, spec = cycle(targets, state, local_backend)
    assert report.status == "accepted", report.reason  # calc/ops.py is still repaired
    assert "return a + b" in (spec.repo / "calc" / "ops.py").read_text()
    skipped = [r.getMessage() for r in caplog.records if "skipping calc/huge.py" in r.getMessage()]
    assert skipped == [
        "calc: skipping calc/huge.py: calc/huge.py: 199.9 KiB is over the limit of 128 KiB "
        "for a rewritable file (raise $NEUROMUTANT_MAX_SOURCE_FILE to allow it)"
    ]


@pytest.mark.slow
def test_a_source_just_under_the_limit_is_enumerated_in_bounded_time_and_memory(monkeypatch):
    monkeypatch.delenv("NEUROMUTANT_MAX_SOURCE_FILE", raising=False)
    source = python_source(MAX_SOURCE_BYTES)
    assert MAX_SOURCE_BYTES - 1024 < len(source.encode()) <= MAX_SOURCE_BYTES
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    begin = time.monotonic()
    mutations = enumerate_mutations(source, "bot/big.py")
    elapsed = time.monotonic() - begin
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert 0 < len(mutations) <= MAX_MUTATIONS
    assert elapsed < 60, f"{elapsed:.0f} s"
    assert growth < 1024 * MiB, f"peak memory grew by {growth / MiB:.0f} MiB"
    last_line = source.count("\n")
    assert max(m.line for m in mutations) > last_line * 0.9  # the sample spans the whole file
