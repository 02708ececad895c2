"""A corrupt state database: kept aside, and every row SQLite can still read saved.

A corrupt store is never deleted and never a crash loop. It is renamed aside
(with its -wal and -shm), a fresh store is made in its place, and each table of
a scratch copy of the aside file is read in rowid order: when a page cannot be
read, the scan jumps to the first rowid past it that can (the table's interior
pages still lead there), so only the rows of broken pages are lost. What was
done is written to the fresh store's ``meta`` under `RECOVERED_KEY`, for
`nmctl` and `nmd` to show.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from daemon.paths import private_mode

RECOVERED_KEY = "recovered_from"
CORRUPT_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB
SUFFIXES = ("", "-wal", "-shm")
LOWEST, HIGHEST = -(2**63), 2**63 - 1


def corruption(message: str) -> sqlite3.DatabaseError:
    """An error `is_corrupt` accepts, for a fault SQLite reports as data (quick_check)."""
    error = sqlite3.DatabaseError(message)
    error.sqlite_errorcode = 11
    return error


def is_corrupt(error: sqlite3.DatabaseError) -> bool:
    """Whether `error` says the file is damaged (not locked, missing or forbidden)."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in CORRUPT_CODES


def make_private(path: Path) -> None:
    """Create the database file with the state's private mode, and tighten its files.

    SQLite gives the -wal and -shm files the mode of the database file.
    """
    mode = private_mode()
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode))
        os.chmod(path, mode)  # whatever the umask
    except FileExistsError:
        pass
    for suffix in SUFFIXES:
        name = Path(f"{path}{suffix}")
        try:
            current = stat.S_IMODE(name.stat().st_mode)
            if current & ~mode:
                os.chmod(name, current & mode)
        except FileNotFoundError:
            continue


def move_aside(path: Path) -> Path:
    """Rename the database and its -wal and -shm to a free ``.corrupt-<time>`` name."""
    stem = f"{path.name}.corrupt-{int(time.time())}"
    aside, n = path.with_name(stem), 1
    while any(Path(f"{aside}{s}").exists() for s in SUFFIXES):
        aside, n = path.with_name(f"{stem}.{n}"), n + 1
    for suffix in SUFFIXES:
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.rename(f"{aside}{suffix}")
    return aside


def salvage(aside: Path, fresh: sqlite3.Connection, reason: str) -> dict[str, Any]:
    """Copy every readable row of `aside` into the empty store `fresh`; record and return it.

    Reads a scratch copy (reading may write the -wal back), so `aside` stays as found.
    """
    note: dict[str, Any] = {"aside": str(aside), "at": time.time(), "reason": reason}
    scratch = aside.with_name(f".{aside.name}.salvage-{os.getpid()}")
    try:
        for suffix in ("", "-wal"):
            if Path(f"{aside}{suffix}").exists():
                shutil.copyfile(f"{aside}{suffix}", f"{scratch}{suffix}")
                os.chmod(f"{scratch}{suffix}", private_mode())
        source = sqlite3.connect(scratch, isolation_level=None)
        try:
            note.update(_copy_tables(source, fresh))
        finally:
            source.close()
    except (sqlite3.Error, OSError) as exc:  # nothing readable: the fresh store stays empty
        note["failed"] = str(exc)
    finally:
        for suffix in SUFFIXES:
            Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    fresh.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (RECOVERED_KEY, json.dumps(note)))
    return note


def _copy_tables(source: sqlite3.Connection, fresh: sqlite3.Connection) -> dict[str, Any]:
    """Each table of `fresh` (parents first) filled from `source`: rows copied and refused."""
    old = {row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    tables = [
        row[0]
        for row in fresh.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY rowid")
    ]
    copied: dict[str, int] = {}
    refused: dict[str, int] = {}
    for table in tables:
        if table not in old:
            continue
        columns = _columns(fresh, table) & _columns(source, table)
        copied[table], refused[table] = _copy_table(source, fresh, table, sorted(columns))
    return {"rows": copied, "refused": {t: n for t, n in refused.items() if n}}


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}


def _copy_table(
    source: sqlite3.Connection, fresh: sqlite3.Connection, table: str, columns: list[str]
) -> tuple[int, int]:
    """Copy one table's readable rows in one transaction; (copied, refused by the schema)."""
    names = ", ".join(f'"{c}"' for c in columns)
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    copied = refused = 0
    fresh.execute("BEGIN IMMEDIATE")
    try:
        for row in _readable_rows(source, f'SELECT rowid, {names} FROM "{table}"'):
            if table == "meta" and row[columns.index("key")] in ("schema", RECOVERED_KEY):
                continue
            try:
                fresh.execute(insert, row)
                copied += 1
            except sqlite3.DatabaseError:  # a constraint: its parent row was lost, say
                refused += 1
    except BaseException:
        fresh.execute("ROLLBACK")
        raise
    fresh.execute("COMMIT")
    return copied, refused


def _readable_rows(source: sqlite3.Connection, select: str) -> Iterator[tuple[Any, ...]]:
    """The rows of `select` (rowid first, dropped) in rowid order, around broken pages.

    Python reads a row ahead and drops the row in hand when that read fails, so
    after a failed scan the rows are taken one query each up to the broken page.
    """
    scan = f"{select} WHERE rowid >= ? ORDER BY rowid"
    one = f"{scan} LIMIT 1"
    start: int | None = LOWEST
    while start is not None:
        last = None
        try:
            for row in source.execute(scan, (start,)):
                last = row[0]
                yield tuple(row[1:])
            return
        except sqlite3.DatabaseError:
            pass
        low = start if last is None else last + 1
        while (row := _row_at(source, one, low)) is not None:
            if row == ():
                return
            yield tuple(row[1:])
            if row[0] == HIGHEST:
                return
            low = row[0] + 1
        start = _next_readable(source, one, low)


def _row_at(source: sqlite3.Connection, one: str, rowid: int) -> tuple[Any, ...] | None:
    """The first row from `rowid` on; () when there is none, None when it cannot be read."""
    try:
        row = source.execute(one, (rowid,)).fetchone()
    except sqlite3.DatabaseError:
        return None
    return () if row is None else tuple(row)


def _next_readable(source: sqlite3.Connection, query: str, low: int) -> int | None:
    """The lowest rowid above `low` (which is not readable) a scan can start from, or None.

    Probes at doubling distances, then bisects: exact past one broken stretch; past
    several, a short good stretch between two broken ones may be stepped over.
    Rowids here are never negative, so the search starts at 0 at the lowest.
    """
    low, step = max(low, -1), 1
    while _row_at(source, query, high := min(low + step, HIGHEST)) is None:
        if high == HIGHEST:
            return None
        low, step = high, step * 2
    while high - low > 1:  # the boundary between the broken page and the next good one
        middle = (low + high) // 2
        readable = _row_at(source, query, middle) is not None
        low, high = (low, middle) if readable else (middle, high)
    return high
