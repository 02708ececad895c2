"""Where a cycle evaluates: here, or on the cluster; an unreachable one falls back or fails.

No Ray node is started here: an address nobody listens on is refused before
Ray is asked to join it. The cluster itself is tested in test_cluster_cycles.py.
"""

from __future__ import annotations

import logging
import socket

import pytest

from daemon.cluster.connect import placement
from daemon.cluster.settings import ADDRESS, SETTINGS
from daemon.errors import ClusterError
from daemon.registry.load import load_target

TARGET = """\
name = "calc"
repo = "{state}/bots/calc"
files = ["calc/*.py"]
[sandbox]
where = "%s"
parallel = 3
"""


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch):
    monkeypatch.delenv(ADDRESS, raising=False)
    monkeypatch.delenv(SETTINGS, raising=False)


def _spec(tmp_path, where):
    path = tmp_path / "calc.toml"
    path.write_text(TARGET % where)
    return load_target(path, tmp_path / "state")


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


BACKEND = object()  # this machine's backend: only passed through


def test_a_local_target_keeps_this_machines_backend_and_parallelism(tmp_path):
    spec = _spec(tmp_path, "local")
    assert placement(spec, BACKEND, tmp_path) == (spec, BACKEND)


def test_an_unreachable_cluster_falls_back_with_one_warning_line(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(ADDRESS, f"127.0.0.1:{_closed_port()}")
    spec = _spec(tmp_path, "cluster")
    with caplog.at_level(logging.WARNING):
        placed, backend = placement(spec, BACKEND, tmp_path)
    assert (placed, backend) == (spec, BACKEND)
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.startswith("calc: the Ray cluster at 127.0.0.1:")
    assert "unreachable" in line and "evaluating on this machine instead" in line


def test_an_unreachable_cluster_fails_the_cycle_when_the_settings_say_so(tmp_path):
    (tmp_path / "settings.toml").write_text(
        f'[cluster]\naddress = "127.0.0.1:{_closed_port()}"\nunreachable = "fail"\n'
    )
    with pytest.raises(ClusterError, match=r"calc: the Ray cluster at 127\.0\.0\.1:\d+ is unreach"):
        placement(_spec(tmp_path, "cluster"), BACKEND, tmp_path)


def test_a_cluster_target_without_a_configured_cluster_says_how_to_configure_one(tmp_path):
    (tmp_path / "settings.toml").write_text('[cluster]\nunreachable = "fail"\n')
    with pytest.raises(
        ClusterError, match=r"no Ray cluster is configured.*NEUROMUTANT_RAY_ADDRESS"
    ):
        placement(_spec(tmp_path, "cluster"), BACKEND, tmp_path)


def test_nmd_counts_the_clusters_cpus_in_its_concurrency_bound(tmp_path, monkeypatch):
    from daemon.service import nmd

    (tmp_path / "settings.toml").write_text('[cluster]\naddress = "10.0.0.5:6379"\n')

    class Cluster:  # stands for a reachable cluster of 16 CPUs (the real one: test_cluster_cycles)
        def slots(self) -> int:
            return 16

    monkeypatch.setattr(nmd.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(nmd, "cluster_backend", lambda settings: Cluster())
    assert nmd.concurrency(tmp_path) == 8


def test_nmd_counts_its_own_cores_when_the_cluster_is_unreachable(tmp_path, monkeypatch, caplog):
    from daemon.service import nmd

    monkeypatch.setenv(ADDRESS, f"127.0.0.1:{_closed_port()}")
    monkeypatch.setattr(nmd.os, "cpu_count", lambda: 4)
    with caplog.at_level(logging.WARNING):
        assert nmd.concurrency(tmp_path) == 2
    assert "unreachable" in caplog.text and "this machine's cores only" in caplog.text
    assert nmd.concurrency(tmp_path / "no-settings") == 2


def test_nmd_refuses_to_start_on_a_wrong_settings_file(tmp_path):
    from daemon.errors import SettingsError
    from daemon.service import nmd

    (tmp_path / "settings.toml").write_text('[cluster]\naddress = "nowhere"\n')
    with pytest.raises(SettingsError, match=r"cluster\.address"):
        nmd.concurrency(tmp_path)
