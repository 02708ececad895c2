"""The state database: transactions, interrupted cycles, corrupt files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest

from daemon.errors import StoreVersionError
from daemon.store import Store


def test_cycles_are_numbered_per_target(tmp_path):
    store = Store(tmp_path / "s.db")
    assert store.start_cycle("a", forced=True, head="h")[1] == 1
    assert store.start_cycle("a", forced=False, head="h")[1] == 2
    assert store.start_cycle("b", forced=False, head="h")[1] == 1


def test_a_cycle_of_a_killed_process_is_marked_interrupted(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from daemon.store import Store
        Store(Path({str(tmp_path / "s.db")!r})).start_cycle("a", forced=True, head="h")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=False)
    mine = Store(tmp_path / "s.db")
    mine.start_cycle("b", forced=True, head="h")
    [dead] = Store(tmp_path / "s.db").cycles("a")
    assert dead["status"] == "interrupted"
    assert "stopped before the cycle ended" in dead["reason"]
    [live] = Store(tmp_path / "s.db").cycles("b")  # a live process's cycle is left running
    assert live["status"] == "running"


def test_a_corrupt_database_is_moved_aside_and_started_afresh(tmp_path, caplog):
    path = tmp_path / "s.db"
    path.write_bytes(b"this is not a database" * 100)
    store = Store(path)
    assert store.cycles("a") == []
    assert "unreadable" in caplog.text
    assert list(tmp_path.glob("s.db.corrupt-*"))


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='99' WHERE key='schema'")
    db.commit()
    db.close()
    with pytest.raises(StoreVersionError, match="newer than this Neuromutant"):
        Store(path)


def test_baselines_are_cached_by_tree(tmp_path):
    store = Store(tmp_path / "s.db")
    store.save_baseline("a", "tree1", '["tests"]', {"score": 0.5})
    assert store.baseline("a", "tree1", '["tests"]') == {"score": 0.5}
    assert store.baseline("a", "tree2", '["tests"]') is None


def test_policy_state_persists_per_target_and_is_replaced_whole(tmp_path):
    store = Store(tmp_path / "s.db")
    assert store.policy_state("a", "trigger") is None
    store.save_policy_state("a", "trigger", {"q": {"s": [1, 2]}})
    store.save_policy_state("b", "trigger", {"q": {}})
    store.save_policy_state("a", "trigger", {"q": {"s": [3, 4]}})
    store.close()
    reopened = Store(tmp_path / "s.db")
    assert reopened.policy_state("a", "trigger") == {"q": {"s": [3, 4]}}
    assert reopened.policy_state("a", "operators") is None
    assert set(reopened.policy_states("trigger")) == {"a", "b"}


def test_a_store_of_schema_1_is_upgraded_and_keeps_its_decisions(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema', '1');
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY, target TEXT NOT NULL, at REAL NOT NULL,
            policy TEXT NOT NULL, forced INTEGER NOT NULL, action TEXT NOT NULL,
            budget REAL NOT NULL, explored INTEGER NOT NULL, epsilon REAL,
            state TEXT NOT NULL, q TEXT, reason TEXT NOT NULL, cycle INTEGER,
            status TEXT, roi REAL, reward REAL
        );
        INSERT INTO decisions (target, at, policy, forced, action, budget, explored, state,
            reason) VALUES ('a', 1.0, 'q-learning', 0, 'act-small', 0.25, 0, '{}', 'why');
        """
    )
    old.commit()
    old.close()
    store = Store(path)
    [decision] = store.decisions("a")
    assert decision["share"] == 0.25 and "budget" not in decision
    assert store.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == "2"
