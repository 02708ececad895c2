"""The example bot "alpha": its shipped defects, judged in the Docker sandbox.

The bot's tests are untrusted code as far as the product is concerned, so they
run only in the sandbox, never in this process.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sandbox.evaluate import run_tests

ALPHA = Path(__file__).resolve().parents[2] / "targets" / "examples" / "alpha"
TOTAL_TESTS = 50

# name -> (path in the bot, shipped text, fixed text); each fix is a single edit.
DEFECTS: dict[str, tuple[str, str, str]] = {
    # off-by-one: a range bound one short, one retry too few in the schedule
    "off_by_one": (
        "alpha/retry.py",
        "range(policy.max_retries - 1)",
        "range(policy.max_retries)",
    ),
    # wrong comparison operator: `>` where `>=` is meant, exactly enough tokens refused
    "comparison": (
        "alpha/ratelimit.py",
        "if self.tokens > cost:",
        "if self.tokens >= cost:",
    ),
    # wrong constant: money rounded to 3 decimal places instead of whole cents (2)
    "constant": (
        "alpha/pricing.py",
        "return round(amount, 3)",
        "return round(amount, 2)",
    ),
    # swapped operands: allowance minus usage instead of usage minus allowance
    "swapped_operands": (
        "alpha/pricing.py",
        "return max(0, included - used)",
        "return max(0, used - included)",
    ),
}

# The tests each defect breaks, and no other defect does.
BROKEN_BY: dict[str, frozenset[str]] = {
    "off_by_one": frozenset(
        {
            "tests/test_retry.py::test_backoff_schedule_has_one_delay_per_retry",
            "tests/test_retry.py::test_backoff_schedule_with_a_single_retry",
        }
    ),
    "comparison": frozenset(
        {
            "tests/test_ratelimit.py::test_burst_up_to_capacity_is_allowed",
            "tests/test_ratelimit.py::test_exact_tokens_suffice_after_refill",
        }
    ),
    "constant": frozenset(
        {
            "tests/test_pricing.py::test_to_cents_rounds_to_two_places",
            "tests/test_pricing.py::test_quote_rounds_a_prorated_fee_to_cents",
        }
    ),
    "swapped_operands": frozenset(
        {
            "tests/test_pricing.py::test_billable_requests_counts_the_overage",
            "tests/test_pricing.py::test_billable_requests_within_the_allowance_is_zero",
            "tests/test_pricing.py::test_quote_within_the_allowance_is_the_plan_fee",
            "tests/test_pricing.py::test_quote_charges_usage_beyond_the_allowance",
        }
    ),
}
EXPECTED_FAILURES = frozenset().union(*BROKEN_BY.values())


def fixed(names: list[str]) -> dict[str, str]:
    """Overlays applying the fixes of the named defects to the shipped sources."""
    sources: dict[str, str] = {}
    for name in names:
        path, old, new = DEFECTS[name]
        text = sources.get(path, (ALPHA / path).read_text())
        assert text.count(old) == 1, (name, old)
        sources[path] = text.replace(old, new, 1)
    return sources


def failing(run) -> frozenset[str]:
    return frozenset(n for n, outcome in run.tests.items() if outcome != "passed")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the bot that the sandbox's unprivileged user can read."""
    root = tmp_path / "alpha"
    shutil.copytree(ALPHA, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    for dirpath, _, filenames in os.walk(root):
        Path(dirpath).chmod(0o755)
        for filename in filenames:
            (Path(dirpath) / filename).chmod(0o644)
    return root


def test_each_defect_has_its_own_tests():
    assert set(BROKEN_BY) == set(DEFECTS)
    assert sum(len(ids) for ids in BROKEN_BY.values()) == len(EXPECTED_FAILURES)
    assert len({path for path, _, _ in DEFECTS.values()}) == 3


def test_shipped_bot_fails_exactly_the_defects_tests(docker_backend, tree):
    run = run_tests(docker_backend, tree, ["tests"])
    assert run.valid, run.reason
    assert run.collected == TOTAL_TESTS
    assert failing(run) == EXPECTED_FAILURES
    assert all(run.tests[n] == "failed" for n in EXPECTED_FAILURES)
    assert run.passed == TOTAL_TESTS - len(EXPECTED_FAILURES)


def test_all_four_fixes_pass_the_whole_suite(docker_backend, tree):
    run = run_tests(
        docker_backend, tree, ["tests"], overlays=fixed(list(DEFECTS)), min_collected=TOTAL_TESTS
    )
    assert run.valid, run.reason
    assert run.score == 1.0
    assert failing(run) == frozenset()


@pytest.mark.parametrize("name", list(DEFECTS))
def test_one_fix_turns_only_its_own_tests_green(docker_backend, tree, name):
    run = run_tests(
        docker_backend, tree, ["tests"], overlays=fixed([name]), min_collected=TOTAL_TESTS
    )
    assert run.valid, run.reason
    assert failing(run) == EXPECTED_FAILURES - BROKEN_BY[name]
