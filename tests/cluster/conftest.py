"""A real Ray cluster of two nodes, reachable only on loopback, for the tests of this folder.

Its processes live in a network namespace of their own (`daemon.cluster.loopback`),
and are stopped by PID when the session ends; other Ray processes on the machine
are left alone. Commands that talk to it run inside the namespace.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.cluster.loopback import LoopbackCluster


@pytest.fixture(scope="session")
def loopback_cluster(tmp_path_factory, docker_client) -> Iterator[LoopbackCluster]:
    root: Path = tmp_path_factory.mktemp("cluster")
    root.chmod(0o755)
    with LoopbackCluster(root, nodes=2, cpus=1) as cluster:
        yield cluster
