from __future__ import annotations

import re

import pytest

from sandbox.errors import LimitError
from sandbox.job import Limits, parse_duration, parse_size


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
