"""Score a candidate whose tests all passed: a gym return, or a measured metric.

The candidate's code runs only in a forked child, confined like the test child.
For ``gym`` the environment, its seeds and the sum of rewards stay in the
harness: the child answers each observation with an action, a line of JSON each
way, and the harness checks each action before it steps the env, so a candidate
that patches gymnasium patches a copy that steps nothing. For ``metric`` the
function must run in the child; the harness checks each value is a finite
number. The harness parses with `json.loads` only, under one deadline for the
phase: a child that dies, hangs or answers garbage fails its scoring with a
one-line error naming the entry. Standard library only at module level.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import math
import os
import re
import resource
import select
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any

from . import procs

ENTRY = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
FIELDS = {"gym": {"env", "seeds"}, "metric": {"repeat"}}  # besides kind, entry and timeout
NOT_SCORED = "not scored: tests did not all pass"
LINE_LIMIT = 1024**2  # bytes of one answer of the child
SHOWN = 80  # characters of an invalid answer quoted in an error
READY = b'{"ready": 1}'


class Failed(Exception):
    """A candidate's scoring failed; the message is one line for `TestRun.objective_error`."""


def check(objective: Mapping[str, Any]) -> dict[str, Any]:
    """The objective as plain data, checked where it enters (`batch_job`).

    Raises:
        ValueError: names the field and the value, and what was expected.
    """
    kind, entry, timeout = (objective.get(k) for k in ("kind", "entry", "timeout"))
    if kind not in FIELDS:
        raise ValueError(f"objective kind {kind!r}: expected 'gym' or 'metric'")
    fields = {"kind", "entry", "timeout", *FIELDS[kind]}
    if set(objective) != fields:
        raise ValueError(f"{kind} objective: fields {sorted(objective)}, expected {sorted(fields)}")
    if not isinstance(entry, str) or not ENTRY.match(entry):
        raise ValueError(f"entry {entry!r}: expected 'module:name', e.g. 'pilot.controller:act'")
    if type(timeout) not in (int, float) or not timeout > 0:
        raise ValueError(f"timeout {timeout!r}: expected a positive number of seconds")
    seeds, repeat = objective.get("seeds", [0]), objective.get("repeat", 1)
    if not isinstance(seeds, list | tuple) or not seeds or {type(s) for s in seeds} != {int}:
        raise ValueError(f"seeds {seeds!r}: expected a non-empty list of integers")
    if type(repeat) is not int or repeat < 1:
        raise ValueError(f"repeat {repeat!r}: expected a positive integer")
    if kind == "gym" and (not isinstance(objective["env"], str) or not objective["env"]):
        raise ValueError(f"env {objective['env']!r}: expected a gymnasium environment id")
    plain = {**objective, "timeout": float(timeout)}
    return {**plain, "seeds": list(seeds)} if kind == "gym" else plain


def warm_up(spec: Mapping[str, Any]) -> None:
    """In the harness, before the tree is on `sys.path`: make and step the gym env once.

    What the environment imports then comes from the sandbox's packages, never
    from the tree; a failure here shows again when `score` makes the env.
    """
    with contextlib.suppress(Exception):
        env = _make_env(spec)
        env.reset(seed=0)
        env.step(env.action_space.sample())
        env.close()


def _make_env(spec: Mapping[str, Any]) -> Any:
    import gymnasium as gym

    # Without the passive checker, which only slows stepping; the TimeLimit stays.
    return gym.make(spec["env"], disable_env_checker=True)


def _shown(data: bytes) -> str:
    """Untrusted bytes quoted on one line, cut short."""
    return repr(data[:SHOWN].decode("utf-8", "replace")) + ("..." if len(data) > SHOWN else "")


def _load(entry: str) -> Any:
    """The object named by ``module:name``, imported in the child; raises Failed."""
    module_name, _, attr = entry.partition(":")
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:
        raise Failed(f"cannot import {module_name}: {exc!r}") from None
    if not hasattr(module, attr):
        raise Failed(f"{module_name} has no {attr}")
    return getattr(module, attr)


def _plain(value: Any) -> Any:
    """Numpy values as plain JSON data (``json.dumps``'s default)."""
    if not hasattr(value, "tolist"):
        raise Failed(f"returned a {type(value).__name__}, which is not JSON")
    return value.tolist()


def _write(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _serve(spec: Mapping[str, Any], seen: Any, reader: int, writer: int) -> None:
    """The child's part once confined: answer observations with actions, or send values."""
    dumps = json.JSONEncoder(default=_plain).encode  # built once: json.dumps(default=) is slow
    try:
        target = _load(spec["entry"])
        if spec["kind"] == "metric":
            if not callable(target):
                raise Failed(f"is a {type(target).__name__}, not a function")
            for _ in range(spec["repeat"]):
                _write(writer, dumps(target()).encode() + b"\n")
            return
        act = target().act if inspect.isclass(target) else target
        if not callable(act):
            raise Failed(f"is a {type(target).__name__}, not a function or a class with act()")
        import numpy as np

        _write(writer, READY + b"\n")
        asarray, loads, dtype, shape = np.asarray, json.loads, seen.dtype, seen.shape
        with os.fdopen(reader, "rb", buffering=65536) as lines:
            for line in lines:
                action = act(asarray(loads(line), dtype).reshape(shape))
                data = b"%d" % action if type(action) is int else dumps(action).encode()
                _write(writer, data + b"\n")
    except Failed as exc:
        _write(writer, dumps({"error": str(exc)}).encode() + b"\n")
    except BaseException as exc:  # SystemExit too: the candidate's, reported like any other
        _write(writer, dumps({"error": f"raised {exc!r}"}).encode() + b"\n")


def _child(spec: Mapping[str, Any], job: Mapping[str, Any], seen: Any, fds: list[int]) -> None:
    """Runs in the forked scoring child; never returns."""
    status = 3
    try:
        reader, writer, *theirs = fds
        for fd in theirs:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        procs.confine(job["src"], job["overlays"], job["scratch"], devnull)
        if job.get("heap"):  # a memory hog fails alone with MemoryError, before the OOM killer
            _, hard = resource.getrlimit(resource.RLIMIT_DATA)
            heap = job["heap"] if hard == resource.RLIM_INFINITY else min(job["heap"], hard)
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_DATA, (heap, hard))
        _serve(spec, seen, reader, writer)
        status = 0
    finally:
        os._exit(status)


class _Peer:
    """The harness's end of the scoring child: lines out and in, all under one deadline."""

    def __init__(self, pid: int, to_child: int, from_child: int, limit: float) -> None:
        self.pid, self.to_child, self.from_child = pid, to_child, from_child
        self.limit, self.deadline = limit, time.monotonic() + limit
        self.readable, self.writable = select.poll(), select.poll()
        self.readable.register(from_child, select.POLLIN)
        self.writable.register(to_child, select.POLLOUT)
        os.set_blocking(from_child, False)
        os.set_blocking(to_child, False)
        self.buffer, self.status = bytearray(), ""

    def _wait(self, poller: Any) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(math.ceil(remaining * 1000)):
            raise Failed(f"gave no answer within the scoring time limit of {self.limit:g} s")

    def send(self, data: bytes) -> None:
        """Write `data` whole, or fail (the child is gone, or reads nothing in time)."""
        while data:
            try:
                data = data[os.write(self.to_child, data) :]
            except BlockingIOError:
                self._wait(self.writable)
            except BrokenPipeError:
                raise Failed(f"the scoring process ended ({self.close()})") from None

    def line(self) -> bytes:
        """The child's next line, without its newline."""
        buffer = self.buffer
        while (end := buffer.find(b"\n")) < 0:
            if len(buffer) > LINE_LIMIT:
                raise Failed(f"answered a line over {LINE_LIMIT} bytes")
            self._wait(self.readable)
            try:
                chunk = os.read(self.from_child, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                raise Failed(f"the scoring process ended ({self.close()})")
            buffer += chunk
        line = bytes(buffer[:end])
        del buffer[: end + 1]
        return line

    def close(self) -> str:
        """Kill the child (its session too), reap it, close our ends; how it ended."""
        if not self.status:
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(self.pid, signal.SIGKILL)
            _, status = os.waitpid(self.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            self.status = f"exit status {code}" if code >= 0 else signal.Signals(-code).name
            os.close(self.to_child)
            os.close(self.from_child)
        return self.status


def _answer(line: bytes, parse_int: Callable[[str], Any] = int) -> Any:
    """An answer as JSON data; the child's own error message raises."""
    try:
        value = json.loads(line, parse_int=parse_int)
    except ValueError:
        raise Failed(f"answered {_shown(line)}, which is not JSON") from None
    if type(value) is dict and "error" in value:
        raise Failed(" ".join(str(value["error"]).split())[:300])
    return value


def _box_encoder(space: Any) -> Callable[[Any], bytes]:
    """Box observations as flat JSON lists, in as few digits as give back the same values."""
    kind, size = space.dtype.kind, max(1, space.dtype.itemsize)
    one = "%d" if kind in "iub" else "%.17g" if size > 4 else "%.9g"  # exact round trips
    template = ("[" + ",".join([one] * int(math.prod(space.shape))) + "]\n").encode()

    def encode(obs: Any) -> bytes:
        values = tuple(obs.ravel().tolist())
        data = template % values
        return data if b"n" not in data else json.dumps(values).encode() + b"\n"  # inf, nan

    return encode


def _codec(env: Any) -> tuple[Callable[[Any], bytes], Callable[[bytes], Any]]:
    """Observations to JSON lines, and answer lines to valid actions (or Failed)."""
    import gymnasium as gym
    import numpy as np

    space, seen = env.action_space, env.observation_space
    if isinstance(seen, gym.spaces.Box):
        encode = _box_encoder(seen)
    elif isinstance(seen, gym.spaces.Discrete):
        encode = lambda obs: b"%d\n" % int(obs)  # noqa: E731
    else:
        raise Failed(f"observation space {seen}: only Box and Discrete are supported")
    if isinstance(space, gym.spaces.Discrete):
        low, high = int(space.start), int(space.start + space.n)

        def discrete(line: bytes) -> int:
            value = int(line) if line.isdigit() and len(line) < 16 else _answer(line)
            if type(value) is int and low <= value < high:
                return value
            raise Failed(f"returned {_shown(line)}, not an int action of {space}")

        return encode, discrete
    if isinstance(space, gym.spaces.Box):
        shape, bounds, dtype = space.shape, (space.low, space.high), space.dtype

        def box(line: bytes) -> Any:
            value = _answer(line)
            try:
                action = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                action = None
            if b"true" in line or b"false" in line or action is None or action.shape != shape:
                raise Failed(f"returned {_shown(line)}, not an action of {space}")
            if not np.isfinite(action).all():
                raise Failed(f"returned {_shown(line)}, which is not finite")
            return np.clip(action, *bounds).astype(dtype)

        return encode, box
    raise Failed(f"action space {space}: only Discrete and Box are supported")


def _episodes(peer: _Peer, env: Any, seeds: list[int], steps: list[int]) -> list[float]:
    """The return of one episode per seed; `steps` (one number) counts the steps as they go."""
    encode, check = _codec(env)
    first = peer.line()
    if first != READY:
        _answer(first)  # the child's own error raises here
        raise Failed(f"answered {_shown(first)} before its first observation")
    scores = []
    send, line, step = peer.send, peer.line, env.step
    try:
        for seed in seeds:
            obs, _ = env.reset(seed=seed)
            total, done, count = 0.0, False, 0
            while not done:
                send(encode(obs))
                obs, reward, terminated, truncated, _ = step(check(line()))
                total += float(reward)
                count += 1
                done = terminated or truncated
            steps[0] += count
            scores.append(total)
    except Failed as exc:
        steps[0] += count
        raise Failed(f"{exc} (seed {seed}, step {count})") from None
    return scores


def _values(peer: _Peer, repeat: int) -> list[float]:
    """The metric's `repeat` values, each a finite number."""
    values: list[float] = []
    try:
        for _ in range(repeat):
            line = peer.line()
            value = _answer(line, parse_int=float)  # a huge int: inf, refused as such
            if type(value) is not float or not math.isfinite(value):
                raise Failed(f"returned {_shown(line)}, not a finite number")
            values.append(value)
    except Failed as exc:
        raise Failed(f"{exc} (call {len(values) + 1} of {repeat})") from None
    return values


def score(
    spec: Mapping[str, Any],
    src: str,
    overlays: Mapping[str, str],
    scratch: str,
    heap: int | None = None,
) -> dict[str, Any]:
    """Score one candidate in a forked child; ``{"scores", "error", "steps"}``, never raises.

    `spec` is checked (`check`); `overlays` are relative to the tree `src`;
    `scratch` (not there yet) becomes the child's cwd, HOME and TMPDIR; past
    `heap` bytes of heap the child gets MemoryError.
    """
    steps = [0]
    env = peer = None
    job = {"src": src, "overlays": dict(overlays), "scratch": scratch, "heap": heap}
    try:
        seen = None  # the observation space, for the child to rebuild observations
        if spec["kind"] == "gym":
            try:
                env = _make_env(spec)
            except Exception as exc:
                raise Failed(f"environment {spec['env']!r}: cannot make it: {exc!r}") from None
            seen = env.observation_space
        down_r, down_w = os.pipe()  # harness -> child: observations
        up_r, up_w = os.pipe()  # child -> harness: actions, values, or its error
        pid = os.fork()
        if pid == 0:
            _child(spec, job, seen, [down_r, up_w, down_w, up_r])
        os.close(down_r)
        os.close(up_w)
        peer = _Peer(pid, down_w, up_r, spec["timeout"])
        if env is None:
            scores = _values(peer, spec["repeat"])
        else:
            scores = _episodes(peer, env, list(spec["seeds"]), steps)
        return {"scores": scores, "error": "", "steps": steps[0]}
    except Failed as exc:
        return {"scores": None, "error": f"{spec['entry']}: {exc}", "steps": steps[0]}
    except Exception as exc:  # the environment failed on a valid action, say
        error = f"{spec['entry']}: scoring failed: {_shown(repr(exc).encode())}"
        return {"scores": None, "error": error, "steps": steps[0]}
    finally:
        if peer is not None:
            peer.close()
        if env is not None:
            with contextlib.suppress(Exception):
                env.close()
