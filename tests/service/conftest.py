"""The real-nmd fixture of tests/daemon/test_nmd.py, for this folder's tests of the queue."""

from ..daemon.test_nmd import daemon_factory

__all__ = ["daemon_factory"]
