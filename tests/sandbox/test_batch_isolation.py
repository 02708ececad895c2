"""Batch mode keeps candidates apart: what one does, the next never sees."""

from __future__ import annotations

import pytest

from sandbox.evaluate import Candidate, run_batch
from sandbox.job import Limits, Outcome

ORIGINAL = "STATE = 'pristine'\n"
LEAKER = """\
import os, subprocess, sys

STATE = 'pristine'
open('/tmp/leak', 'w').write('x')
open('leak-in-cwd', 'w').write('x')
os.environ['LEAK'] = '1'
sys.modules['json'].LEAKED = True
subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)  # leaker-child'],
                 start_new_session=True)
"""
WORLD_TEST = """\
import json
import os
from pathlib import Path

import world


def test_world_is_clean():
    assert world.STATE == 'pristine'
    assert not Path('/tmp/leak').exists()
    assert not Path('leak-in-cwd').exists()
    assert 'LEAK' not in os.environ
    assert not hasattr(json, 'LEAKED')
    others = [p for p in Path('/proc').iterdir() if p.name.isdigit()
              and b'leaker-child' in (p / 'cmdline').read_bytes()]
    assert others == []
"""


@pytest.fixture
def tree(make_tree):
    return make_tree({"world.py": ORIGINAL, "tests/test_world.py": WORLD_TEST})


def test_a_leaking_candidate_does_not_affect_the_next(backend, tree):
    candidates = [
        Candidate("clean-1"),
        Candidate("leaker", {"world.py": LEAKER}),
        Candidate("clean-2"),
    ]
    runs = run_batch(backend, tree, candidates, ["tests"], min_collected=1)
    scores = {c.id: r.score for c, r in zip(candidates, runs, strict=True)}
    # The leaker sees its own leaks (so the test can fail); its neighbours do not.
    assert scores == {"clean-1": 1.0, "leaker": 0.0, "clean-2": 1.0}


def test_hanging_crashing_and_hungry_candidates_fail_alone(backend, tree):
    candidates = [
        Candidate("hang", {"world.py": "while True: pass\n"}),
        Candidate("ok-1"),
        Candidate("crash", {"world.py": "import os\nos.abort()\n"}),
        Candidate("ok-2"),
        Candidate("hungry", {"world.py": "x = []\nwhile True: x.append(bytearray(2**24))\n"}),
        Candidate("ok-3"),
    ]
    limits = Limits(timeout=2.0, memory=256 * 1024**2)
    runs = run_batch(backend, tree, candidates, ["tests"], limits=limits, min_collected=1)
    outcomes = {c.id: r.result.outcome for c, r in zip(candidates, runs, strict=True)}
    assert outcomes["hang"] is Outcome.TIMEOUT
    assert outcomes["crash"] is Outcome.KILLED
    # At import, outside any test's heap cap: the sandbox's memory limit kills it, alone.
    hungry = Outcome.OOM if backend.name == "docker" else Outcome.FAILED  # bwrap: rlimit only
    assert outcomes["hungry"] is hungry
    assert [runs[i].score for i in (1, 3, 5)] == [1.0, 1.0, 1.0]


# --- IPC: nothing a candidate makes in the kernel survives it -------------------------

IPC_COMMON = """\
import ctypes, os, socket, subprocess, sys, time

libc = ctypes.CDLL(None, use_errno=True)
KEY = 0x4E4D0001
NAME = b'/nm-leak'
ABSTRACT = '\\0nm-leak'


def _connects():
    probe = socket.socket(socket.AF_UNIX)
    try:
        probe.connect(ABSTRACT)
        return True
    except OSError:
        return False
    finally:
        probe.close()


FOUND = {
    'msg': lambda: libc.msgget(KEY, 0) >= 0,
    'sem': lambda: libc.semget(KEY, 0, 0) >= 0,
    'shm': lambda: libc.shmget(KEY, 0, 0) >= 0,
    'mqueue': lambda: libc.mq_open(NAME, os.O_RDONLY) >= 0,
    'posix-shm': lambda: os.path.exists('/dev/shm/nm-leak'),
    'abstract-socket': _connects,
}
"""
PLANT = {
    "msg": "libc.msgget(KEY, 0o1666)",
    "sem": "libc.semget(KEY, 1, 0o1666)",
    "shm": "libc.shmget(KEY, 4096, 0o1666)",
    "mqueue": "libc.mq_open(NAME, os.O_CREAT | os.O_RDWR, 0o600, None)",
    "posix-shm": "open('/dev/shm/nm-leak', 'w').write('x')",
    "abstract-socket": (
        "subprocess.Popen([sys.executable, '-c', 'import socket, time; s = socket.socket("
        "socket.AF_UNIX); s.bind(%r); s.listen(); time.sleep(600)' % ABSTRACT], "
        "start_new_session=True)\n"
        "deadline = time.monotonic() + 10\n"
        "while not _connects() and time.monotonic() < deadline:\n"
        "    time.sleep(0.01)"
    ),
}
LOOKER = (
    IPC_COMMON + "\n\ndef leftover():\n    return [k for k, found in FOUND.items() if found()]\n"
)
IPC_TEST = """\
import world


def test_nothing_is_left():
    assert world.leftover() == []
"""


def planter(kind: str) -> str:
    """A candidate that makes one IPC object of `kind`; its test passes only if it exists."""
    return (
        IPC_COMMON
        + f"\n{PLANT[kind]}\n\n"
        + f"def leftover():\n    return [] if FOUND[{kind!r}]() else ['could not plant {kind}']\n"
    )


@pytest.mark.parametrize("kind", sorted(PLANT))
def test_an_ipc_object_does_not_outlive_its_candidate(backend, make_tree, kind):
    tree = make_tree({"world.py": LOOKER, "tests/test_ipc.py": IPC_TEST})
    candidates = [Candidate("before"), Candidate("planter", {"world.py": planter(kind)})]
    candidates.append(Candidate("after"))
    runs = run_batch(backend, tree, candidates, ["tests"], min_collected=1)
    failures = [(r.result.result or {}).get("failures") for r in runs]
    assert [r.score for r in runs] == [1.0, 1.0, 1.0], failures


WRITABLE_PLANTER = """\
import os

PLANTED = []
for top, dirs, _ in os.walk('/'):
    dirs[:] = [d for d in dirs if os.path.join(top, d) not in ('/proc', '/sys')]
    if os.access(top, os.W_OK):
        try:
            open(os.path.join(top, 'nm-planted'), 'w').write('x')
            PLANTED.append(top)
        except OSError:
            pass


def leftover():
    return [] if '/tmp' in PLANTED else ['planted nothing']
"""
WRITABLE_LOOKER = """\
import os


def leftover():
    found = []
    for top, dirs, files in os.walk('/'):
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in ('/proc', '/sys')]
        found += [top for f in files if f == 'nm-planted']
    return found
"""


def test_a_file_planted_in_every_writable_place_is_gone_for_the_next(backend, make_tree):
    tree = make_tree({"world.py": WRITABLE_LOOKER, "tests/test_ipc.py": IPC_TEST})
    candidates = [Candidate("planter", {"world.py": WRITABLE_PLANTER}), Candidate("after")]
    runs = run_batch(backend, tree, candidates, ["tests"], min_collected=1)
    failures = [(r.result.result or {}).get("failures") for r in runs]
    assert [r.score for r in runs] == [1.0, 1.0], failures
