"""What a sandbox job is, the limits it runs under, and what comes back.

A job is data: a host source tree mounted read-only, files overlaid on it as
data, a command, and limits. A result is data too: running an untrusted
candidate never raises, it returns a `Result` whose `outcome` says how it ended.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import LimitError

# Paths inside every sandbox, whatever the backend.
SRC = "/sandbox/src"  # the source tree, read-only
WORK = "/sandbox/work"  # writable scratch (tmpfs), the job's working directory
JOB = "/sandbox/job"  # the job file, read-only
LIB = "/sandbox/lib"  # the runners package `nmrunners`, read-only
PORT = "/sandbox/port"  # a long-lived runner's host socket folder, read-only
RESULT = "/tmp/nm-result.json"  # where a runner without a channel writes its result
SCRATCH = (WORK, "/tmp", "/dev/shm")  # the writable filesystems, all tmpfs
RESERVED_FILES = frozenset({"job.json", "owner"})  # names the staging directory uses itself
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$")

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_size(value: str | int, field: str = "size") -> int:
    """Read a byte size such as ``512m``, ``1g``, ``64KiB`` or an integer of bytes."""
    if isinstance(value, bool):
        raise LimitError(field, value, "a size such as '512m' or a number of bytes")
    if isinstance(value, int):
        if value <= 0:
            raise LimitError(field, value, "a positive size")
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise LimitError(field, value, "a size such as '512m', '1g' or '64k'")
    number = float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    if number < 1:
        raise LimitError(field, value, "a positive size")
    return int(number)


def parse_duration(value: str | float, field: str = "duration") -> float:
    """Read a duration such as ``60s``, ``1.5m``, ``250ms`` or a number of seconds."""
    if isinstance(value, bool):
        raise LimitError(field, value, "a duration such as '60s' or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise LimitError(field, value, "a duration such as '60s', '250ms' or '2m'")
        unit = match.group(2).lower() if match.group(2) else None
        seconds = float(match.group(1)) * _DURATION_UNITS[unit]
    if seconds <= 0:
        raise LimitError(field, value, "a positive duration")
    return seconds


@dataclass(frozen=True)
class Limits:
    """Resource limits of one job (or of one candidate in a batch)."""

    memory: int = 512 * 1024**2
    """Bytes of memory, swap included (swap equals memory, so none is usable)."""
    cpus: float = 1.0
    """CPU quota in cores."""
    pids: int = 128
    """Most processes and threads alive at once."""
    timeout: float = 60.0
    """Wall-clock seconds before the job is killed."""
    output: int = 64 * 1024
    """Bytes kept of stdout and of stderr each; the rest is counted and dropped."""
    result: int = 8 * 1024**2
    """Bytes a runner's result file may have before it is refused."""
    tmpfs: int = 256 * 1024**2
    """Bytes of each scratch filesystem (the work dir and /tmp), at most: see `scratch`."""
    test_timeout: float | None = None
    """Seconds one test may run before it fails alone, the session going on; None: no limit."""

    def __post_init__(self) -> None:
        for name in ("memory", "pids", "output", "result", "tmpfs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise LimitError(name, value, "a positive integer")
        if not self.cpus > 0:
            raise LimitError("cpus", self.cpus, "a positive number of cores")
        if not self.timeout > 0:
            raise LimitError("timeout", self.timeout, "a positive number of seconds")
        if self.test_timeout is not None and not self.test_timeout > 0:
            raise LimitError("test_timeout", self.test_timeout, "a positive number of seconds")

    @property
    def scratch(self) -> int:
        """Bytes of each of the work dir and /tmp as mounted: `tmpfs`, at most a quarter of memory.

        tmpfs pages are charged to the sandbox's memory. Capped so, the work
        dir, /tmp and /dev/shm (`shm`) filled together leave over a third of
        the memory to the processes: a candidate that fills them gets ENOSPC,
        its own failure, instead of an OOM kill that takes the report with it.
        """
        return min(self.tmpfs, self.memory // 4)

    @property
    def shm(self) -> int:
        """Bytes of /dev/shm: 64 MiB (Docker's default), at most an eighth of memory."""
        return min(64 * 1024**2, self.memory // 8)

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Limits:
        """Build limits from user-facing values (``{"memory": "512m", "timeout": "60s"}``)."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise LimitError(unknown[0], raw[unknown[0]], f"one of {sorted(known)}")
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name in ("timeout", "test_timeout"):
                values[name] = parse_duration(value, name)
            elif name == "cpus":
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise LimitError(name, value, "a number of cores such as 1.0")
                values[name] = float(value)
            elif name == "pids":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise LimitError(name, value, "a whole number of processes")
                values[name] = value
            else:
                values[name] = parse_size(value, name)
        return cls(**values)


@dataclass(frozen=True)
class Watch:
    """Progress a job's command must show (lines on stdout or stderr), or be killed as stuck."""

    first: float
    """Seconds before the first line (start-up)."""
    between: float
    """Seconds from one line to the next."""


@dataclass(frozen=True)
class Job:
    """One command to run on one source tree inside a sandbox."""

    tree: Path
    """Host directory mounted read-only at `SRC`."""
    command: Sequence[str]
    """Argument vector run inside, in `WORK`. ``{python}`` is replaced by the sandbox's Python."""
    overlays: Mapping[str, str] = field(default_factory=dict)
    """Relative path -> file content that replaces the tree's file. Given to the
    runner as data in the job file, never written over the tree."""
    limits: Limits = field(default_factory=Limits)
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment variables for the command."""
    payload: Mapping[str, Any] = field(default_factory=dict)
    """Runner-specific data (test arguments, a batch of candidates), put in the job file."""
    name: str = "job"
    """A short label, shown in `docker ps` and in container labels."""
    files: Mapping[str, bytes] = field(default_factory=dict)
    """File name -> bytes put beside the job file, read-only at ``JOB/NAME``: binary
    inputs such as a population's weights, which JSON would carry poorly."""
    channel: bool = False
    """The runner sends its result over the launcher's authenticated channel
    (`nmrunners.channel`), never through `RESULT`, a file code under test could forge."""
    watch: Watch | None = None
    """Progress the command must show (the batch harness: a line per candidate)."""
    port: Path | None = None
    """A host folder mounted read-only at `PORT`, where the host listens on a Unix
    socket for a long-lived runner (`gym_pool`): requests in, results out, no network."""

    def __post_init__(self) -> None:
        for name in self.files:
            if not _FILE_NAME.match(name) or name in RESERVED_FILES:
                raise ValueError(
                    f"job file name {name!r}: expected a plain name of letters, digits, "
                    f"'.', '_' or '-', not one of {sorted(RESERVED_FILES)}"
                )


class Outcome(enum.StrEnum):
    """How a job ended."""

    OK = "ok"  # exited 0
    FAILED = "failed"  # exited non-zero, or its runner reported a failure
    TIMEOUT = "timeout"  # ran past its wall-clock limit and was killed
    OOM = "oom"  # killed by the out-of-memory killer of its memory limit
    KILLED = "killed"  # ended by a signal that was not ours
    ERROR = "error"  # the sandbox itself failed: the candidate never ran properly


@dataclass(frozen=True)
class Output:
    """A captured stream, cut at the output limit."""

    text: str = ""
    total_bytes: int = 0
    """Bytes the stream really carried; more than `len(text)` when truncated."""
    truncated: bool = False

    def __str__(self) -> str:
        if not self.truncated:
            return self.text
        return f"{self.text}\n[... truncated: {self.total_bytes} bytes in all]"


@dataclass(frozen=True)
class Result:
    """What came back from one job."""

    outcome: Outcome
    exit_code: int | None
    """The command's exit status; None when it never exited by itself."""
    wall_time: float
    """Seconds from start to end of the command."""
    stdout: Output = field(default_factory=Output)
    stderr: Output = field(default_factory=Output)
    peak_memory: int | None = None
    """Peak resident bytes of the command and its children, where measurable."""
    result: Any = None
    """The runner's result file, parsed from JSON; None if it wrote none."""
    signal: int | None = None
    """The signal that ended the command, if one did."""
    limits_hit: tuple[str, ...] = ()
    """Limits that were reached: 'timeout', 'memory', 'pids', 'output', 'result'."""
    detail: str = ""
    """Why, in words, when the outcome is not `ok`."""

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.outcome is Outcome.OK

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for JSON output and the state database."""
        return {
            "outcome": self.outcome.value,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "wall_time": round(self.wall_time, 4),
            "peak_memory": self.peak_memory,
            "limits_hit": list(self.limits_hit),
            "detail": self.detail,
            "stdout": {
                "text": self.stdout.text,
                "total_bytes": self.stdout.total_bytes,
                "truncated": self.stdout.truncated,
            },
            "stderr": {
                "text": self.stderr.text,
                "total_bytes": self.stderr.total_bytes,
                "truncated": self.stderr.truncated,
            },
            "result": self.result,
        }
