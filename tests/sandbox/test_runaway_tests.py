"""A test that runs past its own time or memory limit fails alone; the session goes on."""

from __future__ import annotations

import pytest

from daemon.cycles.baseline import Baseline
from sandbox.evaluate import Candidate, run_batch, run_tests
from sandbox.job import Limits

LOOPS = {
    "loop/core.py": """
        def spin(n):
            while n != 0:  # never ends for odd n
                n -= 2
            return 0
        """,
    "tests/test_core.py": """
        from loop.core import spin

        def test_even():
            assert spin(4) == 0

        def test_odd():
            assert spin(3) == 0

        def test_odd_swallowing():
            for _ in range(3):
                try:
                    assert spin(5) == 0
                    return
                except Exception:  # the limit is not an Exception: this cannot hide it
                    pass
        """,
}
FIXED = "def spin(n):\n    while n > 0:\n        n -= 2\n    return 0\n"
LIMITS = Limits(timeout=60.0, test_timeout=0.5)


@pytest.fixture
def tree(make_tree):
    return make_tree(LOOPS)


def test_a_hanging_test_fails_alone_and_the_baseline_is_valid(backend, tree):
    run = run_tests(backend, tree, ["tests"], limits=LIMITS)
    assert run.valid, run.reason
    assert run.tests == {
        "tests/test_core.py::test_even": "passed",
        "tests/test_core.py::test_odd": "failed",
        "tests/test_core.py::test_odd_swallowing": "failed",
    }
    document = run.result.result
    assert document["timed_out"] == [
        "tests/test_core.py::test_odd",
        "tests/test_core.py::test_odd_swallowing",
    ]
    assert "time limit of 0.5 s" in document["failures"]["tests/test_core.py::test_odd"]
    baseline = Baseline.of(run)
    assert baseline.hung == document["timed_out"]
    assert baseline.duration < 1.0  # the hung tests' seconds are not the session's own


def test_candidates_of_a_batch_hang_alone_too(backend, tree):
    candidates = [Candidate("same"), Candidate("fixed", {"loop/core.py": FIXED})]
    same, fixed = run_batch(backend, tree, candidates, ["tests"], limits=LIMITS)
    assert same.valid and same.passed == 1, same.reason
    assert fixed.valid and fixed.score == 1.0, fixed.reason


def test_candidate_limits_scale_from_the_baseline_timings():
    baseline = Baseline(0.5, 1, 2, ["a"], duration=0.3, slowest=0.02, hung=["b"])
    limits = baseline.candidate_limits(Limits(timeout=60.0, test_timeout=5.0))
    assert limits.test_timeout == 1.0  # ten times 0.02 s is under the floor
    assert limits.timeout == pytest.approx(3.0 + 1.0)  # ten times 0.3 s, and room for "b"
    slow = Baseline(0.5, 1, 2, ["a"], duration=20.0, slowest=2.0)
    limits = slow.candidate_limits(Limits(timeout=60.0, test_timeout=5.0))
    assert (limits.timeout, limits.test_timeout) == (60.0, 5.0)  # capped by the target's
    assert Baseline(0, 0, 1, []).candidate_limits(Limits()).test_timeout is None


HOGS = {
    "hog/core.py": """
        def grow(n):
            items = []
            while n != 0:  # never ends for odd n, and eats memory meanwhile
                items.append("x" * 1024)
                n -= 2
            return items
        """,
    "tests/test_core.py": """
        from hog.core import grow

        def test_even():
            assert len(grow(4)) == 2

        def test_odd():
            assert grow(3)
        """,
}


def test_a_test_that_eats_memory_fails_alone_and_the_session_goes_on(backend, make_tree):
    tree = make_tree(HOGS)
    limits = Limits(memory=256 * 1024**2, timeout=60.0, test_timeout=30.0)
    run = run_tests(backend, tree, ["tests"], limits=limits)
    assert run.valid, run.reason
    assert run.tests == {
        "tests/test_core.py::test_even": "passed",
        "tests/test_core.py::test_odd": "failed",
    }
    assert "MemoryError" in run.result.result["failures"]["tests/test_core.py::test_odd"]


def test_when_every_test_hangs_they_share_what_is_left_and_the_run_reports(backend, make_tree):
    tree = make_tree(
        {
            "loop/core.py": LOOPS["loop/core.py"],
            "tests/test_core.py": "from loop.core import spin\n\n"
            + "".join(f"def test_{n}():\n    assert spin({2 * n + 1}) == 0\n\n" for n in range(6)),
        }
    )
    limits = Limits(timeout=12.0, test_timeout=4.0)  # six times four is twice the session
    run = run_tests(backend, tree, ["tests"], limits=limits)
    assert run.valid, run.reason
    assert len(run.result.result["timed_out"]) == 6
    assert run.result.wall_time < 12.0
