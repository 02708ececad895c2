"""`nmctl log`, `history` and `rollback`: read what cycles did, and undo it.

`log` reads the commits (git is the record of what changed), `history` the
state database (every cycle, accepted or not), and `rollback` reverts through
the ledger, with new commits: history is never rewritten.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from daemon.cli import options
from daemon.ledger import open_ledger
from daemon.locks import target_lock
from daemon.store import open_store


def add_parsers(commands: options.Commands) -> None:
    """Register `log`, `history` and `rollback`."""
    log = commands.add_parser(
        "log",
        help="Neuromutant's commits on a target, read back from git",
        description="Neuromutant's commits on NAME, newest first, read from the trailers of "
        "the target repository's git log: cycle, operator and site (or method, episodes and "
        "generations of a weights target), scores, and whether a commit was reverted.",
    )
    log.add_argument("name", help="the target")
    log.add_argument("-n", type=int, default=50, help="at most this many commits (default: 50)")
    options.add_location(log)
    options.add_json(log, "print the commits and their trailers as JSON")
    log.set_defaults(func=cmd_log)

    history = commands.add_parser(
        "history",
        help="the last cycles of a target, accepted or not, and why",
        description="The last cycles of NAME from the state database, newest first: when, "
        "how each ended, the scores, how many candidates, and the reason.",
    )
    history.add_argument("name", help="the target")
    history.add_argument("-n", type=int, default=20, help="at most this many cycles (default: 20)")
    options.add_location(history)
    options.add_json(history, "print the cycles as JSON")
    history.set_defaults(func=cmd_history)

    rollback = commands.add_parser(
        "rollback",
        help="revert Neuromutant's latest commit on a target (or every one after a commit)",
        description="Revert the latest Neuromutant commit of NAME that is not reverted yet, "
        "or with --to every one after COMMIT, newest first. Each revert is a new commit "
        "(history is kept) and is recorded in the state database. Takes the target's lock: "
        "fails if a cycle of NAME is running.",
    )
    rollback.add_argument("name", help="the target")
    rollback.add_argument(
        "--to", metavar="COMMIT", help="revert every Neuromutant commit after COMMIT"
    )
    options.add_location(rollback)
    options.add_json(rollback, "print the reverts as JSON")
    rollback.set_defaults(func=cmd_rollback)


def cmd_log(args: argparse.Namespace) -> int:
    """`nmctl log NAME`."""
    spec = options.registry(args).get(args.name)
    ledger = open_ledger(spec)
    try:
        entries = ledger.log(spec.name, args.n)
    finally:
        ledger.close()
    if not entries:
        text = f"no Neuromutant commits on {spec.name} yet ({spec.repo})"
    else:
        text = "\n".join(line for entry in entries for line in _log_lines(entry))
    options.emit(args, entries, text)
    return 0


def _log_lines(entry: dict[str, Any]) -> list[str]:
    t = entry["trailers"]
    mark = " [reverted]" if entry["reverted"] else ""
    head = f"{entry['sha'][:12]} {entry['date']} {entry['subject']}{mark}"
    if "Reverts" in t:
        detail = f"reverts {t['Reverts'][:12]}: {t.get('Reason', '')}"
    elif "Objective" in t:
        detail = (
            f"cycle {t.get('Cycle', '?')}, {t['Objective']} {t.get('Score', '?')} over "
            f"{t.get('Held-Out', '?')} held-out runs, {t.get('Operator', '?')}, "
            f"{t.get('Candidates', '?')} candidates"
        )
    elif "Method" in t:
        detail = (
            f"cycle {t.get('Cycle', '?')}, {t['Method']}, held-out return "
            f"{t.get('Score', '?')} over {t.get('Episodes', '?')} episodes, "
            f"{t.get('Generations', '?')} generations, {t.get('Env-Steps', '?')} env steps"
        )
    else:
        detail = (
            f"cycle {t.get('Cycle', '?')}, {t.get('Operator', '?')} at "
            f"{t.get('Site', '?')}, score {t.get('Score', '?')}, "
            f"{t.get('Candidates', '?')} candidates"
        )
    return [head, f"    {detail}"]


def cmd_history(args: argparse.Namespace) -> int:
    """`nmctl history NAME`."""
    spec = options.registry(args).get(args.name)
    with open_store(options.state(args)) as store:
        cycles = store.cycles(spec.name, args.n)
    if not cycles:
        text = f"no cycles of {spec.name} yet; run one with `nmctl cycle {spec.name}`"
    else:
        text = "\n".join(_history_line(c) for c in cycles)
    options.emit(args, cycles, text)
    return 0


def _history_line(c: dict[str, Any]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(c["started_at"]))
    score = "" if c["baseline_score"] is None else f" score {c['baseline_score']:.3f}"
    best = "" if c["best_score"] is None else f" -> {c['best_score']:.3f}"
    return (
        f"#{c['number']:<4} {when} {c['status']:<11}{score}{best} "
        f"{c['candidates']} candidates  {c['reason']}"
    )


def cmd_rollback(args: argparse.Namespace) -> int:
    """`nmctl rollback NAME [--to COMMIT]`: revert through the ledger, newest first.

    Under the target's lock, so no cycle commits meanwhile; after `recover`, so
    what a killed cycle left is repaired before anything is reverted.
    """
    state = options.state(args)
    spec = options.registry(args).get(args.name)
    with target_lock(state, spec.name):
        ledger = open_ledger(spec)
        try:
            ledger.recover()
            reverts = ledger.rollback(spec.name, args.to)
        finally:
            ledger.close()
        with open_store(state) as store:
            for r in reverts:
                store.add_commit(spec.name, None, r["revert"], "revert", r["subject"])
    text = "\n".join(f"{r['revert'][:12]} {r['subject']}" for r in reverts)
    options.emit(args, reverts, text)
    return 0
