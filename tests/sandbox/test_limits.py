from __future__ import annotations

import re

import pytest

from sandbox.errors import LimitError
from sandbox.evaluate import Candidate, run_batch, run_tests
from sandbox.job import Limits, Outcome, parse_duration, parse_size

from ..conftest import CALC, FIXED_OPS


@pytest.mark.parametrize(
    ("text", "size"),
    [("512m", 512 * 2**20), ("1g", 2**30), ("64KiB", 64 * 1024), (4096, 4096), ("1.5k", 1536)],
)
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(("text", "seconds"), [("60s", 60), ("250ms", 0.25), ("2m", 120), (3, 3)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_limits_from_user_values():
    limits = Limits.parse({"memory": "256m", "timeout": "30s", "cpus": 0.5, "pids": 32})
    assert (limits.memory, limits.timeout, limits.cpus, limits.pids) == (256 * 2**20, 30, 0.5, 32)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"memory": "lots"}, "sandbox limit 'memory': expected a size such as '512m'"),
        ({"timeout": "-1s"}, "sandbox limit 'timeout': expected a duration such as '60s'"),
        ({"timeout": 0}, "sandbox limit 'timeout': expected a positive duration, got 0"),
        ({"cpus": "two"}, "sandbox limit 'cpus': expected a number of cores"),
        ({"swap": "1g"}, "sandbox limit 'swap': expected one of"),
    ],
)
def test_bad_limits_name_the_field(raw, message):
    with pytest.raises(LimitError, match=re.escape(message)):
        Limits.parse(raw)


def test_the_scratch_filesystems_leave_memory_to_the_processes():
    limits = Limits(memory=256 * 2**20, tmpfs=256 * 2**20)
    assert limits.scratch == 64 * 2**20  # a quarter of memory, whatever tmpfs asks
    assert limits.shm == 32 * 2**20
    assert 2 * limits.scratch + limits.shm < limits.memory * 2 // 3
    assert Limits(memory=2**30, tmpfs=16 * 2**20).scratch == 16 * 2**20


# --- a candidate that fills the sandbox's scratch space ------------------------------

FILLER = """\
import os


def fill(root):
    n = 0
    try:
        while True:
            with open(os.path.join(root, f'fill-{n}'), 'wb') as out:
                for _ in range(8):
                    out.write(b'x' * 2**20)
            n += 1
    except OSError as exc:
        return exc.errno


ERRNO = fill(%r)


def add(a, b):
    return a + b


def mul(a, b):
    return a * b
"""
# tmpfs as large as memory: before the cap, filling /tmp was an OOM kill that lost the report.
FULL = Limits(memory=256 * 2**20, tmpfs=256 * 2**20, timeout=60)


@pytest.fixture
def tree(make_tree):
    return make_tree(CALC)


@pytest.mark.parametrize("root", ["/tmp", "/sandbox/work", "/dev/shm"])
def test_filling_the_scratch_space_fails_the_run_and_keeps_its_report(backend, tree, root):
    filler = {"calc/ops.py": FILLER % root}
    run = run_tests(backend, tree, ["tests"], overlays=filler, limits=FULL)
    assert run.result.outcome is Outcome.FAILED, run.result.detail
    assert "wrote more than the sandbox's scratch space" in run.result.detail
    assert f"{root} is full" in run.result.detail
    assert "scratch" in run.result.limits_hit
    assert set(run.tests.values()) == {"passed"}  # the report came back
    assert not run.valid and run.score == 0.0
    assert "scratch space" in run.reason


def test_a_candidate_that_fills_tmp_fails_alone_in_a_batch(backend, tree):
    candidates = [
        Candidate("fixed-1", {"calc/ops.py": FIXED_OPS}),
        Candidate("filler", {"calc/ops.py": FILLER % "/tmp"}),
        Candidate("fixed-2", {"calc/ops.py": FIXED_OPS}),
    ]
    runs = run_batch(backend, tree, candidates, ["tests"], limits=FULL, min_collected=2)
    assert [r.score for r in runs] == [1.0, 0.0, 1.0]
    filler = runs[1].result
    assert filler.outcome is Outcome.FAILED
    assert "wrote more than the sandbox's scratch space (/tmp is full" in filler.detail
    assert filler.result["tests"]["tests/test_ops.py::test_add"] == "passed"  # the report is kept
