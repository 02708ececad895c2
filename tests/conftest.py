"""Fixtures shared by the whole suite: real backends on a temporary state directory."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from sandbox import image, reaper
from sandbox.bwrap_backend import BwrapBackend
from sandbox.docker_backend import DockerBackend, connect

_CLIENTS: list[docker.DockerClient] = []


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


@pytest.fixture(params=["docker", "bwrap"])
def backend(request: pytest.FixtureRequest) -> Iterator[object]:
    """Each real backend in turn."""
    yield request.getfixturevalue(f"{request.param}_backend")


def our_containers(client: docker.DockerClient) -> list[str]:
    """Sandbox containers owned by this test process."""
    mine = f"{reaper.OWNER_LABEL}={reaper.owner.token()}"
    return [c.name for c in client.containers.list(all=True, filters={"label": mine})]


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
