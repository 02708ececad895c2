"""Remove the IPC objects a candidate left behind, so the next one starts on a clean slate.

Files a candidate leaves are wiped with the scratch filesystems (``/dev/shm``,
which holds POSIX shared memory, among them), and its processes are killed by
`procs`, which also ends its abstract Unix sockets: those live only as long as
a process holds them. What outlives every process is kept by the kernel's IPC
namespace: System V message queues, semaphore sets and shared memory
segments, and POSIX message queues. The sandbox has an IPC namespace of its
own, shared by the candidates of one batch, so the harness removes every such
object that appeared during a candidate before the next one starts.

System V objects are listed in ``/proc/sysvipc`` and removed with
``IPC_RMID`` (a segment still attached dies with its last process, which is
already killed). POSIX message queues can only be listed through an
``mqueue`` filesystem: Docker mounts one at ``/dev/mqueue``, the bubblewrap
backend too; where none is mounted (the local test backend), they are left.

Only objects that appeared since the snapshot taken before the candidate, and
that this uid owns or created, are touched: in the local test backend the
harness shares the host's namespace, whose other objects are not ours.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from pathlib import Path

IPC_RMID = 0
KINDS = ("msg", "sem", "shm")


def mqueue_mount() -> str | None:
    """Where an mqueue filesystem is mounted in this mount namespace, or None."""
    try:
        with open("/proc/self/mountinfo") as mountinfo:
            for line in mountinfo:
                fields = line.split(" - ", 1)
                if len(fields) == 2 and fields[1].startswith("mqueue "):
                    return fields[0].split()[4].encode().decode("unicode_escape")
    except OSError:
        pass
    return None


def sysv_objects() -> set[tuple[str, int]]:
    """(kind, id) of each System V object this uid owns or created."""
    me = os.geteuid()
    found = set()
    for kind in KINDS:
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        header = lines[0].split() if lines else []
        if "uid" not in header or "cuid" not in header:
            continue
        uid, cuid = header.index("uid"), header.index("cuid")
        for line in lines[1:]:
            fields = line.split()
            if me in (int(fields[uid]), int(fields[cuid])):
                found.add((kind, int(fields[1])))
    return found


class Slate:
    """The IPC objects present before a candidate, and the removal of any it adds."""

    def __init__(self) -> None:
        self.mqueue = mqueue_mount()
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._before: tuple[set[tuple[str, int]], set[str]] = (set(), set())

    def _queues(self) -> set[str]:
        if self.mqueue is None:
            return set()
        try:
            return set(os.listdir(self.mqueue))
        except OSError:
            return set()

    def snapshot(self) -> None:
        """Note what exists now: it is not the next candidate's to remove."""
        self._before = (sysv_objects(), self._queues())

    def clean(self) -> list[str]:
        """Remove every object that appeared since the snapshot; returns what was removed."""
        removed = []
        for kind, ident in sorted(sysv_objects() - self._before[0]):
            if kind == "sem":
                status = self._libc.semctl(ident, 0, IPC_RMID)
            else:
                status = getattr(self._libc, f"{kind}ctl")(ident, IPC_RMID, None)
            if status == 0:
                removed.append(f"{kind} {ident}")
        for name in sorted(self._queues() - self._before[1]):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.mqueue or "", name))
                removed.append(f"mqueue {name}")
        return removed
