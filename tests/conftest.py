"""Fixtures shared by the whole suite: real backends on a temporary state directory.

Tests are marked here from what they use, so ``-m "not docker"`` and ``-m "not
slow"`` select a loop that needs no Docker daemon and runs in about a minute:

- ``docker``: uses `docker_client` or `docker_backend` (directly or through
  another fixture) or the ``docker`` case of `backend`.
- ``bwrap``: uses `bwrap_backend` or the ``bwrap`` case of `backend`.
- ``slow``: uses a fixture of `SLOW_FIXTURES` (a real ``nmd`` process), or is
  marked ``slow`` where it is defined (real evolution, torch in a subprocess).
- any of these when listed in `BY_NODE_ID`: the test reaches a real backend
  another way (``nmd`` or ``nmctl`` in a subprocess).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from sandbox import image, reaper
from sandbox.bwrap_backend import BwrapBackend
from sandbox.docker_backend import DockerBackend, connect

from .fakes.local_backend import LocalBackend

_CLIENTS: list[docker.DockerClient] = []

DOCKER_FIXTURES = frozenset({"docker_client", "docker_backend", "loopback_cluster"})
BWRAP_FIXTURES = frozenset({"bwrap_backend"})
SLOW_FIXTURES = frozenset(
    {"daemon_factory", "loopback_cluster"}  # a real nmd (tests/daemon/test_nmd.py), Ray nodes
)
BY_NODE_ID: dict[str, frozenset[str]] = {
    # Starts a real nmd (Docker is its default backend) without `daemon_factory`.
    "tests/daemon/test_weights_cycle.py::"
    "test_an_improving_cycle_through_nmd_is_one_commit_of_weights_and_metadata": frozenset(
        {"docker", "slow"}
    ),
    # `nmctl sandbox check --allow-bwrap` runs a trivial job in a real bubblewrap sandbox.
    "tests/test_nmctl_sandbox.py::test_check_can_fall_back_to_bubblewrap_when_allowed": frozenset(
        {"bwrap"}
    ),
}
"""Markers of tests (node ids without parameters) that reach a backend with no fixture."""


def _marks_for(item: pytest.Item) -> set[str]:
    """The markers `item` gets from the fixtures it uses, transitively, and its parameters."""
    names = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    # `backend` picks its real backend with getfixturevalue, unseen by the fixture closure.
    if callspec is not None and "backend" in callspec.params:
        names.add(f"{callspec.params['backend']}_backend")
    marks = set(BY_NODE_ID.get(item.nodeid.split("[")[0], ()))
    if names & DOCKER_FIXTURES:
        marks.add("docker")
    if names & BWRAP_FIXTURES:
        marks.add("bwrap")
    if names & SLOW_FIXTURES:
        marks.add("slow")
    return marks


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test ``docker``, ``bwrap`` or ``slow`` from what it uses (see the module doc)."""
    for item in items:
        for name in sorted(_marks_for(item) - {m.name for m in item.iter_markers()}):
            item.add_marker(getattr(pytest.mark, name))


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    client = connect()
    image.build_offline(client)  # a no-op when set-up already built it
    _CLIENTS.append(client)
    return client


@pytest.fixture(scope="session")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="session")
def docker_backend(docker_client: docker.DockerClient, state: Path) -> DockerBackend:
    return DockerBackend(state, client=docker_client)


@pytest.fixture(scope="session")
def bwrap_backend(state: Path) -> BwrapBackend:
    return BwrapBackend(state)


@pytest.fixture(scope="session")
def local_backend(tmp_path_factory: pytest.TempPathFactory) -> LocalBackend:
    """Runs jobs in a plain subprocess, NO sandbox: for logic tests that need no isolation."""
    return LocalBackend(tmp_path_factory.mktemp("local-jobs"))


@pytest.fixture(params=["docker", "bwrap"])
def backend(request: pytest.FixtureRequest) -> Iterator[object]:
    """Each real backend in turn."""
    yield request.getfixturevalue(f"{request.param}_backend")


def our_containers(client: docker.DockerClient) -> list[str]:
    """Sandbox containers owned by this test process."""
    mine = f"{reaper.OWNER_LABEL}={reaper.owner.token()}"
    listed = client.api.containers(all=True, filters={"label": mine})  # one call: no race
    return [(c.get("Names") or [c["Id"]])[0].lstrip("/") for c in listed]


@pytest.fixture(autouse=True)
def no_container_left() -> Iterator[None]:
    """After every test, no sandbox container of this process may remain."""
    yield
    for client in _CLIENTS:
        assert our_containers(client) == []


@pytest.fixture
def make_tree(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """Write a small source tree from {relative path: source} and return its root."""

    def make(files: dict[str, str]) -> Path:
        root = tmp_path / "tree"
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        root.chmod(0o755)
        return root

    return make


CALC = {
    "calc/__init__.py": "",
    "calc/ops.py": """\
        def add(a, b):
            return a - b  # the defect


        def mul(a, b):
            return a * b
        """,
    "tests/test_ops.py": """\
        from calc.ops import add, mul


        def test_add():
            assert add(2, 3) == 5


        def test_mul():
            assert mul(2, 3) == 6
        """,
}
CALC = {path: textwrap.dedent(text) for path, text in CALC.items()}
FIXED_OPS = CALC["calc/ops.py"].replace("a - b  # the defect", "a + b")
