"""The pytest runner judged from its structured result, on both backends."""

from __future__ import annotations

import pytest

from sandbox.evaluate import Candidate, judge, run_batch, run_tests
from sandbox.job import Limits, Outcome, Result

from ..conftest import CALC, FIXED_OPS

BASELINE_TESTS = 2


@pytest.fixture
def tree(make_tree):
    return make_tree(CALC)


def test_baseline_reports_each_test(backend, tree):
    run = run_tests(backend, tree, ["tests"])
    assert run.valid, run.reason
    assert run.tests == {
        "tests/test_ops.py::test_add": "failed",
        "tests/test_ops.py::test_mul": "passed",
    }
    assert run.collected == BASELINE_TESTS
    assert run.score == 0.5


def test_coverage_records_the_lines_each_test_ran(backend, tree):
    run = run_tests(backend, tree, ["tests"], coverage=["calc/ops.py"])
    assert run.valid, run.reason
    assert run.coverage["tests"] == {
        "tests/test_ops.py::test_add": {"calc/ops.py": [1, 2]},
        "tests/test_ops.py::test_mul": {"calc/ops.py": [5, 6]},
    }
    assert run.coverage["setup"] == {"calc/ops.py": [1, 5]}  # the defs run at import
    assert run_tests(backend, tree, ["tests"]).coverage is None


def test_an_overlay_fixes_the_defect_without_touching_the_tree(backend, tree):
    before = (tree / "calc/ops.py").read_text()
    run = run_tests(backend, tree, ["tests"], overlays={"calc/ops.py": FIXED_OPS})
    assert run.valid and run.score == 1.0
    assert (tree / "calc/ops.py").read_text() == before


@pytest.mark.parametrize("source", ["import os\nos._exit(0)\n", "import sys\nsys.exit(0)\n"])
def test_exiting_at_import_is_a_failure(backend, tree, source):
    run = run_tests(
        backend, tree, ["tests"], overlays={"calc/ops.py": source}, min_collected=BASELINE_TESTS
    )
    assert not run.valid
    assert run.score == 0.0


def test_collecting_fewer_tests_than_the_baseline_is_a_failure(backend, tree):
    run = run_tests(backend, tree, ["tests/test_ops.py::test_mul"], min_collected=BASELINE_TESTS)
    assert run.tests == {"tests/test_ops.py::test_mul": "passed"}
    assert not run.valid
    assert "fewer than the baseline" in run.reason


def test_printing_a_fake_summary_does_not_pass(backend, tree):
    forged = FIXED_OPS.replace("return a * b", "print('2 passed in 0.01s'); return 0")
    run = run_tests(backend, tree, ["tests"], overlays={"calc/ops.py": forged})
    assert run.tests["tests/test_ops.py::test_mul"] == "failed"


def test_tests_are_read_only(backend, tree):
    sneaky = FIXED_OPS + (
        "\ntry:\n"
        "    open('/sandbox/src/tests/test_ops.py', 'w').write('def test_x(): pass')\n"
        "except OSError:\n"
        "    pass\n"
    )
    run = run_tests(backend, tree, ["tests"], overlays={"calc/ops.py": sneaky})
    assert run.collected == BASELINE_TESTS
    assert "def test_add" in (tree / "tests/test_ops.py").read_text()


@pytest.mark.parametrize("path", ["tests/test_ops.py", "conftest.py", "../outside.py", "/etc/x"])
def test_tests_conftest_and_outside_paths_cannot_be_overlaid(backend, tree, path):
    with pytest.raises(ValueError, match="overlay path"):
        run_tests(backend, tree, ["tests"], overlays={path: "x = 1\n"})


def test_a_timeout_is_an_invalid_run(backend, tree):
    hang = FIXED_OPS.replace("return a * b", "while True: pass")
    run = run_tests(
        backend, tree, ["tests"], overlays={"calc/ops.py": hang}, limits=Limits(timeout=2.0)
    )
    assert run.result.outcome is Outcome.TIMEOUT
    assert not run.valid and run.score == 0.0


def test_judge_refuses_a_missing_result():
    run = judge(Result(Outcome.OK, 0, 0.1), min_collected=2)
    assert not run.valid
    assert "before the runner reported" in run.reason


def test_a_batch_scores_each_candidate(backend, tree):
    candidates = [
        Candidate("orig"),
        Candidate("fixed", {"calc/ops.py": FIXED_OPS}),
        Candidate("broken", {"calc/ops.py": "def add(:\n"}),
    ]
    runs = run_batch(backend, tree, candidates, ["tests"], min_collected=BASELINE_TESTS)
    assert [r.score for r in runs] == [0.5, 1.0, 0.0]
    assert not runs[2].valid


def test_a_conftest_that_imports_the_code_still_sees_each_candidate(backend, make_tree):
    """Preparing pytest once would import the original: the harness must notice and not."""
    tree = make_tree({**CALC, "conftest.py": "import calc.ops\n"})
    candidates = [Candidate("fixed", {"calc/ops.py": FIXED_OPS}), Candidate("orig")]
    runs = run_batch(backend, tree, candidates, ["tests"], min_collected=BASELINE_TESTS)
    assert [r.score for r in runs] == [1.0, 0.5]


def test_failures_come_back_as_data(backend, tree):
    run = run_tests(backend, tree, ["tests"])
    failure = run.result.result["failures"]["tests/test_ops.py::test_add"]
    assert "assert -1 == 5" in failure


# --- what counts as a pass ------------------------------------------------------------


def _judged(tests: dict[str, str], **options) -> object:
    doc = {"complete": True, "exit_status": 1, "collected": len(tests), "tests": tests}
    return judge(Result(Outcome.FAILED, 1, 0.1, result=doc), **options)


def test_only_a_test_that_ran_and_passed_counts():
    outcomes = ["passed", "failed", "error", "skipped", "xfailed", "xpassed"]
    run = _judged({f"t{i}": o for i, o in enumerate(outcomes)}, baseline={})
    assert run.passed == 1 and run.score == 1 / 6
    assert run.passing() == {"t0"}


def test_tests_skipped_or_xfailed_at_baseline_are_not_in_the_score():
    baseline = _judged({"ok": "passed", "bad": "failed", "skip": "skipped", "xf": "xfailed"})
    assert baseline.excluded == {"skip", "xf"}
    assert baseline.score == 0.5
    repaired = _judged(
        {"ok": "passed", "bad": "passed", "skip": "skipped", "xf": "xfailed"},
        baseline=baseline.tests,
    )
    assert repaired.score == 1.0  # every runnable test passes: repaired


def test_skipping_or_xfailing_a_failing_test_never_raises_the_score():
    baseline = _judged({"ok": "passed", "bad": "failed"})
    for excuse in ("skipped", "xfailed", "xpassed", "error"):
        run = _judged({"ok": "passed", "bad": excuse}, baseline=baseline.tests)
        assert run.score == baseline.score == 0.5, excuse


def test_a_test_that_passed_at_baseline_and_no_longer_passes_is_broken():
    baseline = _judged({"ok": "passed", "bad": "failed"})
    for excuse in ("skipped", "xfailed", "xpassed", "error"):
        run = _judged(
            {"ok": excuse, "bad": "passed"}, baseline=baseline.tests, must_pass=baseline.passing()
        )
        assert "ok" not in run.passing()
        assert not run.valid and run.reason == f"ok passed at baseline and is now {excuse}"


EXCUSES = {
    "skip": "import pytest\n\n\ndef add(a, b):\n    pytest.skip('not today')\n",
    "xfail": "import pytest\n\n\ndef add(a, b):\n    pytest.xfail('expected')\n",
    "exit": "import pytest\n\n\ndef add(a, b):\n    pytest.exit('bye', returncode=0)\n",
}


@pytest.mark.parametrize("excuse", sorted(EXCUSES))
def test_a_candidate_that_excuses_a_failing_test_does_not_improve(backend, tree, excuse):
    baseline = run_tests(backend, tree, ["tests"])
    source = EXCUSES[excuse] + "\n\ndef mul(a, b):\n    return a * b\n"
    candidates = [Candidate(excuse, {"calc/ops.py": source})]
    [run] = run_batch(
        backend,
        tree,
        candidates,
        ["tests"],
        min_collected=baseline.collected,
        must_pass=baseline.passing(),
        baseline=baseline.tests,
    )
    assert not (run.valid and run.score > baseline.score), run.tests


def test_a_skip_marked_test_does_not_keep_a_repaired_target_below_one(backend, make_tree):
    marked = CALC["tests/test_ops.py"] + (
        "\n\nimport pytest\n\n\n@pytest.mark.skip\ndef test_later():\n    assert False\n"
        "\n\n@pytest.mark.xfail\ndef test_known():\n    assert False\n"
    )
    tree = make_tree({**CALC, "tests/test_ops.py": marked})
    baseline = run_tests(backend, tree, ["tests"])
    assert baseline.valid and baseline.score == 0.5
    [fixed] = run_batch(
        backend,
        tree,
        [Candidate("fixed", {"calc/ops.py": FIXED_OPS})],
        ["tests"],
        min_collected=baseline.collected,
        must_pass=baseline.passing(),
        baseline=baseline.tests,
    )
    assert fixed.valid and fixed.score == 1.0
