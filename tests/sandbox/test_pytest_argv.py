"""The runner's pytest command line: paths made absolute, option values left alone."""

from __future__ import annotations

from daemon.registry import code as registry_code
from sandbox.runners import pytest_session
from sandbox.runners.pytest_session import pytest_argv


def test_paths_are_joined_to_the_tree_and_option_values_are_not():
    argv = pytest_argv("/src", ["tests", "-k", "add", "--tb=short", "-x", "tests/b.py::t"], "/w")
    assert argv[-6:] == ["/src/tests", "-k", "add", "--tb=short", "-x", "/src/tests/b.py::t"]


def test_the_runner_and_the_registry_agree_on_options_with_values():
    assert pytest_session.VALUE_OPTIONS == registry_code.VALUE_OPTIONS
