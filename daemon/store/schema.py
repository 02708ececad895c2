"""The state database's tables, and the schema version a store refuses to read past."""

from __future__ import annotations

import logging
import sqlite3

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cycles (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    number INTEGER NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    forced INTEGER NOT NULL,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    head TEXT,
    baseline_score REAL,
    best_score REAL,
    candidates INTEGER NOT NULL DEFAULT 0,
    sandbox_seconds REAL NOT NULL DEFAULT 0,
    commit_sha TEXT,
    UNIQUE (target, number)
);
CREATE TABLE IF NOT EXISTS candidates (
    id INTEGER PRIMARY KEY,
    cycle_id INTEGER NOT NULL REFERENCES cycles(id),
    mutation TEXT NOT NULL,
    outcome TEXT NOT NULL,
    valid INTEGER NOT NULL,
    score REAL NOT NULL,
    passed INTEGER NOT NULL,
    collected INTEGER NOT NULL,
    wall_time REAL NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS candidates_cycle ON candidates (cycle_id);
CREATE TABLE IF NOT EXISTS baselines (
    target TEXT NOT NULL,
    tree TEXT NOT NULL,
    args TEXT NOT NULL,
    run TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (target, tree, args)
);
CREATE TABLE IF NOT EXISTS commits (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    cycle_id INTEGER REFERENCES cycles(id),
    sha TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS policy_state (
    target TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (target, name)
);
-- The trigger policy (policies.trigger, daemon.cycles.learn): each searching cycle's ROI
-- and the EMA after it, and every decision with the state, values and reason.
CREATE TABLE IF NOT EXISTS roi (
    target TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    at REAL NOT NULL,
    status TEXT NOT NULL,
    gain REAL NOT NULL,
    cost REAL NOT NULL,
    roi REAL NOT NULL,
    ema REAL NOT NULL,
    alpha REAL NOT NULL,
    unit TEXT NOT NULL DEFAULT 'tests',
    PRIMARY KEY (target, cycle)
);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    at REAL NOT NULL,
    policy TEXT NOT NULL,
    forced INTEGER NOT NULL,
    action TEXT NOT NULL,
    share REAL NOT NULL,
    explored INTEGER NOT NULL,
    epsilon REAL,
    state TEXT NOT NULL,
    q TEXT,
    reason TEXT NOT NULL,
    cycle INTEGER,
    status TEXT,
    roi REAL,
    reward REAL
);
CREATE INDEX IF NOT EXISTS decisions_target ON decisions (target, id);
"""

MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: ("ALTER TABLE decisions RENAME COLUMN budget TO share",),
    3: ("ALTER TABLE roi ADD COLUMN unit TEXT NOT NULL DEFAULT 'tests'",),
}
"""Statements that bring a store of the version before each key up to that version."""


def schema_version(db: sqlite3.Connection) -> int | None:
    """The schema version of an existing store, or None for a new one."""
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE name='meta'").fetchone()
    if not exists:
        return None
    row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    return None if row is None else int(row["value"])


def _applies(db: sqlite3.Connection, statement: str) -> bool:
    """Whether `statement` applies: an ALTER TABLE needs its table.

    A table the store lacks is made whole by `SCHEMA`'s CREATE TABLE IF NOT EXISTS,
    which runs after the migrations.
    """
    words = statement.split()
    if words[:2] != ["ALTER", "TABLE"]:
        return True
    return (
        db.execute("SELECT 1 FROM sqlite_master WHERE name=?", (words[2],)).fetchone() is not None
    )


def migrate(db: sqlite3.Connection, version: int) -> None:
    """Bring a store of `version` up to `SCHEMA_VERSION`, in one transaction."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS.get(target, ()):
                if _applies(db, statement):
                    db.execute(statement)
        db.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    log.info("state database upgraded from schema %d to %d", version, SCHEMA_VERSION)
