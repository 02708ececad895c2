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
    hungry = Outcome.OOM if backend.name == "docker" else Outcome.FAILED  # bwrap: rlimit only
    assert outcomes["hungry"] is hungry
    assert [runs[i].score for i in (1, 3, 5)] == [1.0, 1.0, 1.0]
