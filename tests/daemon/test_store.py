"""The state database: transactions, interrupted cycles, corrupt files."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

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


def test_a_file_that_is_no_database_is_kept_aside_and_said_loudly(tmp_path, caplog):
    path = tmp_path / "s.db"
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    store = Store(path)
    assert store.cycles("a") == []
    [aside] = tmp_path.glob("s.db.corrupt-*")
    assert aside.read_bytes() == garbage
    note = store.recovered_from()
    assert note["aside"] == str(aside) and note["failed"] == "file is not a database"
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert str(path) in record.getMessage() and str(aside) in record.getMessage()


def leaf_pages(path, table: str) -> list[tuple[int, int]]:
    """(page number, rows) of each leaf page of `table`, in page order."""
    db = sqlite3.connect(path)
    rows = db.execute(
        "SELECT pageno, ncell FROM dbstat WHERE name=? AND pagetype='leaf' ORDER BY pageno",
        (table,),
    ).fetchall()
    db.close()
    return rows


def test_a_store_with_broken_pages_keeps_every_row_of_the_intact_ones(tmp_path, caplog):
    path = tmp_path / "s.db"
    store = Store(path)
    for _ in range(5):
        store.start_cycle("a", forced=True, head="h")
    subjects = {n: f"calc: change {n} " + "x" * 150 for n in range(1, 2001)}
    for n, subject in subjects.items():
        store.add_commit("a", 1, f"{n:040x}", "accept", subject)
    store.close()
    leaves = leaf_pages(path, "commits")
    broken = [leaves[1], leaves[len(leaves) // 2], leaves[len(leaves) // 2 + 3]]
    data = bytearray(path.read_bytes())
    for page, _ in broken:  # garbage over whole pages in the middle, the header intact
        data[(page - 1) * 4096 : page * 4096] = b"\xde\xad\xbe\xef" * 1024
    path.write_bytes(bytes(data))

    store = Store(path)
    lost = sum(rows for _, rows in broken)
    kept = store.db.execute("SELECT id, subject FROM commits ORDER BY id").fetchall()
    assert len(kept) == len(subjects) - lost
    assert all(subjects[row["id"]] == row["subject"] for row in kept)
    assert [c["number"] for c in store.cycles("a")] == [5, 4, 3, 2, 1]
    note = store.recovered_from()
    assert note["rows"]["commits"] == len(kept) and note["rows"]["cycles"] == 5
    aside = Path(note["aside"])
    assert aside.read_bytes() == bytes(data)  # kept as found, never deleted
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert str(path) in record.getMessage() and str(aside) in record.getMessage()
    store.close()

    caplog.clear()
    again = Store(path)  # the recovered store opens cleanly, and still says what happened
    assert again.recovered_from() == note
    assert not [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(list(tmp_path.glob("s.db.corrupt-*"))) == 1


def test_a_database_that_cannot_be_opened_is_not_taken_for_a_corrupt_one(tmp_path):
    path = tmp_path / "s.db"
    path.mkdir()  # not damaged data: moving it aside would lose nothing but hide the fault
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        Store(path)
    assert path.is_dir()
    assert not list(tmp_path.glob("s.db.corrupt-*"))


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
    assert store.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == "3"


def test_a_store_of_schema_2_keeps_its_roi_points_counted_in_tests(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema', '2');
        CREATE TABLE roi (
            target TEXT NOT NULL, cycle INTEGER NOT NULL, at REAL NOT NULL,
            status TEXT NOT NULL, gain REAL NOT NULL, cost REAL NOT NULL, roi REAL NOT NULL,
            ema REAL NOT NULL, alpha REAL NOT NULL, PRIMARY KEY (target, cycle)
        );
        INSERT INTO roi VALUES ('a', 1, 1.0, 'accepted', 0.5, 1.0, 0.5, 0.05, 0.1);
        """
    )
    old.commit()
    old.close()
    store = Store(path)
    [point] = store.roi_series("a")
    assert point["unit"] == "tests" and point["ema"] == 0.05


def test_the_roi_ema_restarts_when_the_score_unit_changes(tmp_path):
    store = Store(tmp_path / "state.db")
    seen = []

    def point(cycle):
        def make(previous):
            seen.append(previous)
            return {
                "cycle": cycle,
                "status": "accepted",
                "gain": 1.0,
                "cost": 1.0,
                "roi": 1.0,
                "ema": 0.1 * cycle,
            }

        return make

    store.add_roi("a", point(1), 0.1, "tests")
    store.add_roi("a", point(2), 0.1, "tests")
    store.add_roi("a", point(3), 0.1, "return")
    assert seen == [None, 0.1, None]
    assert [p["unit"] for p in store.roi_series("a")] == ["return", "tests", "tests"]
