"""A Ray cluster of several nodes on one machine, reachable only on loopback: for tests and benches.

Ray binds its servers to every interface unless its node address is
127.0.0.1, and a node joining 127.0.0.1 replaces it with the machine's
outward address. So the cluster lives in a network namespace of its own,
whose only interface is loopback: every node is 127.0.0.1, nothing it opens
can be reached from outside, and the processes it holds are exactly the
cluster's, which is how `stop` finds them (by PID, never by name: other Ray
processes on the machine are left alone). Commands that talk to the cluster
(`nmctl cycle ... --local`, a bench) run inside it through `command`.
Docker is reached through its Unix socket, as from anywhere on the machine.
Needs root (`unshare --net`), `ip` and `nsenter`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from daemon.paths import PROJECT_ROOT
from sandbox.cluster.node import NODE_STATE

PORT = 6390
NMCTL = [sys.executable, "-m", "daemon.cli.main"]
STOP_SECONDS = 5.0
"""Seconds the cluster's processes get to end on SIGTERM before SIGKILL."""


class LoopbackCluster:
    """`nodes` Ray nodes of `cpus` CPUs each; `start`, then `stop` (or use as a context manager)."""

    def __init__(self, root: Path, nodes: int = 2, cpus: int = 1, port: int = PORT) -> None:
        self.root = Path(root)
        self.nodes, self.cpus, self.port = nodes, cpus, port
        self.holder: subprocess.Popen[bytes] | None = None
        self.address = f"127.0.0.1:{port}"
        self.temp = Path(tempfile.mkdtemp(prefix="nm-ray-"))
        """Ray's session folder: short, for the Unix socket paths inside it (108 bytes at most)."""

    def __enter__(self) -> LoopbackCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LoopbackCluster:
        """Make the namespace, start the head and join the other nodes; each node has a state."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--", "sleep", "infinity"], start_new_session=True
        )
        try:
            self._wait_for_namespace()
            self.command(["ip", "link", "set", "lo", "up"], check=True)
            for k in range(self.nodes):
                self.start_node(k)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_namespace(self) -> None:
        assert self.holder is not None
        mine = os.readlink("/proc/self/ns/net")
        for _ in range(1000):  # unshare runs before it execs sleep: a few ms
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{self.holder.pid}/ns/net") != mine:
                    return
            if self.holder.poll() is not None:
                raise RuntimeError("unshare --net failed (it needs root)")
            time.sleep(0.01)
        raise RuntimeError("the network namespace did not appear")

    def node_state(self, k: int) -> Path:
        """Node `k`'s state folder (job files, unpacked trees), as `nmctl cluster` sets it."""
        return self.root / f"machine-{k}" / "node"

    def start_node(self, k: int) -> None:
        """Start node `k` with `nmctl cluster`: the head for 0, a node joining it otherwise."""
        head = ["start", "--head", "--port", str(self.port), "--temp-dir", str(self.temp)]
        role = head if k == 0 else ["join", self.address]
        machine = self.node_state(k).parent
        machine.mkdir(mode=0o700, exist_ok=True)
        argv = [*NMCTL, "cluster", *role, "--num-cpus", str(self.cpus), "--state", str(machine)]
        done = self.command(argv, cwd=PROJECT_ROOT, capture_output=True, timeout=300)
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
            raise RuntimeError(f"node {k} did not start ({' '.join(argv)}):\n{output}")

    def command(
        self, argv: Sequence[str], env: Mapping[str, str] | None = None, **options: object
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `argv` inside the cluster's network namespace (options as for `subprocess.run`)."""
        return subprocess.run(self.inside(argv), env={**os.environ, **(env or {})}, **options)  # type: ignore[call-overload]

    def inside(self, argv: Sequence[str]) -> list[str]:
        """`argv` prefixed to run inside the namespace (for `subprocess.Popen`)."""
        assert self.holder is not None, "start the cluster first"
        return ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net", "--", *argv]

    def pids(self) -> list[int]:
        """Every process in the namespace but its holder: the cluster's and its clients'."""
        if self.holder is None:
            return []
        try:
            ns = os.readlink(f"/proc/{self.holder.pid}/ns/net")
        except OSError:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != self.holder.pid:
                with contextlib.suppress(OSError):
                    if os.readlink(entry / "ns/net") == ns:
                        found.append(int(entry.name))
        return found

    def raylet(self, k: int) -> int | None:
        """The PID of node `k`'s raylet, found by its state folder in its environment."""
        want = f"{NODE_STATE}={self.node_state(k)}".encode()
        for pid in self.pids():
            with contextlib.suppress(OSError):
                raylet = Path(f"/proc/{pid}/comm").read_text().strip() == "raylet"
                if raylet and want in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                    return pid
        return None

    def stop(self) -> None:
        """Kill every process of the namespace (TERM, then KILL), then the namespace."""
        for sig, wait in ((signal.SIGTERM, STOP_SECONDS), (signal.SIGKILL, 30.0)):
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while self.pids() and time.monotonic() < deadline:
                time.sleep(0.1)
        if self.holder is not None:
            self.holder.kill()
            self.holder.wait()
            self.holder = None
        shutil.rmtree(self.temp, ignore_errors=True)
