"""`nmctl log`, `history` and `rollback` on a real repository, in-process."""

from __future__ import annotations

import json
import sqlite3

import pytest

from daemon.cli.main import main
from daemon.locks import target_lock
from daemon.store import DB_NAME

from .conftest import BUGGY

ONE = "def add(a, b):\n    return a + b\n"
TWO = "def add(a, b):\n    return b + a\n"


def reverts_recorded(state) -> list[tuple]:
    with sqlite3.connect(state / DB_NAME) as db:
        return db.execute("SELECT target, cycle_id, sha, kind, subject FROM commits").fetchall()


def test_rollback_reverts_the_latest_commit_and_records_it(bot, capsys):
    first = bot.commit(ONE, 1)
    second = bot.commit(TWO, 2)
    assert main(["rollback", "calc", "--json", *bot.where]) == 0
    [done] = json.loads(capsys.readouterr().out)
    assert done["reverted"] == second and done["subject"] == 'Revert "calc: cycle 2"'
    assert bot.ops() == ONE
    assert reverts_recorded(bot.state) == [
        ("calc", None, done["revert"], "revert", 'Revert "calc: cycle 2"')
    ]
    assert main(["log", "calc", "--json", *bot.where]) == 0
    log = {e["sha"]: e for e in json.loads(capsys.readouterr().out)}
    assert log[second]["reverted"] and not log[first]["reverted"]
    assert log[done["revert"]]["trailers"]["Reverts"] == second


def test_rollback_to_a_commit_reverts_every_later_one_newest_first(bot, capsys):
    first = bot.commit(ONE, 1)
    bot.commit(TWO, 2)
    base = bot.commit(ONE, 3)  # the file is as after cycle 1 again
    bot.commit(TWO, 4)
    assert main(["rollback", "calc", "--to", base, *bot.where]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].endswith('Revert "calc: cycle 4"')
    assert bot.ops() == ONE
    assert main(["rollback", "calc", "--to", first, "--json", *bot.where]) == 0
    subjects = [r["subject"] for r in json.loads(capsys.readouterr().out)]
    assert subjects == ['Revert "calc: cycle 3"', 'Revert "calc: cycle 2"']
    assert bot.ops() == ONE
    assert len(reverts_recorded(bot.state)) == 3


def test_rollback_with_nothing_to_revert_is_one_line(bot, capsys):
    assert main(["rollback", "calc", *bot.where]) == 1
    err = capsys.readouterr().err
    assert err == "nmctl: nothing to roll back: no unreverted Neuromutant commit on calc\n"
    assert bot.ops() == BUGGY


def test_rollback_to_an_unknown_commit_says_so(bot, capsys):
    bot.commit(ONE, 1)
    assert main(["rollback", "calc", "--to", "nosuchrev", "--json", *bot.where]) == 1
    out, err = capsys.readouterr()
    assert "nosuchrev: no such commit" in err
    assert json.loads(out)["ok"] is False
    assert bot.ops() == ONE


def test_rollback_waits_for_no_running_cycle(bot, capsys):
    bot.commit(ONE, 1)
    bot.state.mkdir()
    with target_lock(bot.state, "calc"):
        assert main(["rollback", "calc", *bot.where]) == 1
    assert "a cycle of 'calc' is already running" in capsys.readouterr().err
    assert bot.ops() == ONE


def test_rollback_first_repairs_what_a_killed_cycle_left(bot, capsys):
    bot.commit(ONE, 1)
    lock = bot.repo / ".git" / "index.lock"
    lock.write_text("")  # stale: no process holds it
    assert main(["rollback", "calc", *bot.where]) == 0
    assert not lock.exists() and bot.ops() == BUGGY


@pytest.mark.parametrize("command", ["log", "history"])
def test_log_and_history_of_a_new_target(bot, capsys, command):
    assert main([command, "calc", *bot.where]) == 0
    assert "calc yet" in capsys.readouterr().out
    assert main([command, "calc", "--json", *bot.where]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_log_shows_commits_and_reverts(bot, capsys):
    sha = bot.commit(ONE, 1)
    assert main(["rollback", "calc", *bot.where]) == 0
    capsys.readouterr()
    assert main(["log", "calc", *bot.where]) == 0
    out = capsys.readouterr().out
    assert f"{sha[:12]} " in out and "calc: cycle 1 [reverted]" in out
    assert f"reverts {sha[:12]}: nmctl rollback" in out
    assert "cycle 1, arith-swap at calc/ops.py:2, score 0.500 -> 1.000" in out
