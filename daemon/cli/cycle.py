"""`nmctl cycle`, `log`, `history` and `rollback`: run a cycle and read what cycles did."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from daemon.cli.sandbox import add_backend_options
from daemon.cli.targets import add_common
from daemon.errors import Error
from daemon.ledger import LedgerError, format_message, open_ledger
from daemon.locks import target_lock
from daemon.paths import state_dir, targets_dir
from daemon.registry import load_registry
from daemon.service.control import NotRunning, call, socket_path
from daemon.store import Store, open_store
from sandbox.backend import open_backend


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Register `cycle`, `log`, `history` and `rollback`."""
    cycle = commands.add_parser(
        "cycle",
        help="run one forced cycle of a target now",
        description="Run one forced improvement cycle of NAME now: baseline, candidates in "
        "the sandbox (mutations of a code target, generations of a weights target), commit "
        "of the best real improvement, verification. Goes through the running nmd "
        "(progress streamed back); --local runs it in this process.",
    )
    cycle.add_argument("name")
    cycle.add_argument(
        "--targets", default=None, help="folder of target files (default: ./targets)"
    )
    add_backend_options(cycle)
    cycle.add_argument(
        "--local",
        action="store_true",
        help="run the cycle in this process instead of through the running nmd",
    )
    cycle.add_argument("--json", action="store_true", help="print the summary as JSON")
    cycle.set_defaults(func=cmd_cycle)

    log = commands.add_parser(
        "log",
        help="Neuromutant's commits on a target, from git",
        description="Read the Neuromutant trailers of the target repo's "
        "git log: cycle, operator and site (or method, episodes and generations), "
        "scores, reverted.",
    )
    log.add_argument("name")
    log.add_argument("-n", type=int, default=50, help="at most this many commits (default: 50)")
    add_common(log)
    log.add_argument("--json", action="store_true", help="print as JSON")
    log.set_defaults(func=cmd_log)

    history = commands.add_parser(
        "history",
        help="the last cycles of a target",
        description="The last cycles of NAME from the state database.",
    )
    history.add_argument("name")
    history.add_argument("-n", type=int, default=20, help="at most this many cycles (default: 20)")
    add_common(history)
    history.add_argument("--json", action="store_true", help="print as JSON")
    history.set_defaults(func=cmd_history)

    rollback = commands.add_parser(
        "rollback",
        help="revert Neuromutant's latest commit on a target (or back to a commit)",
        description="Revert, with revert commits (history is kept), the latest Neuromutant "
        "commit of NAME that is not reverted yet, or with --to every one after COMMIT.",
    )
    rollback.add_argument("name")
    rollback.add_argument("--to", metavar="COMMIT", help="revert every Neuromutant commit after it")
    add_common(rollback)
    rollback.add_argument("--json", action="store_true", help="print as JSON")
    rollback.set_defaults(func=cmd_rollback)


class TerminalProgress:
    """A one-line progress bar on stderr, only when it is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()

    def __call__(self, event: str, **data: Any) -> None:
        """Show one progress event."""
        if not self.enabled:
            return
        if event == "phase":
            sys.stderr.write(f"\r\033[K{data['name']}...")
        elif event == "evaluated":
            done, total = data["done"], max(1, data["total"])
            bar = "#" * int(30 * done / total)
            sys.stderr.write(
                f"\r\033[K[{bar:<30}] {done}/{data['total']} candidates, "
                f"best {data['best']:.3f}, {time.monotonic() - self.started:.0f}s"
            )
        elif event == "generation":
            sys.stderr.write(f"\r\033[K{generation_line(data)}, {self.elapsed()}")
        sys.stderr.flush()

    def elapsed(self) -> str:
        """Seconds since the cycle began."""
        return f"{time.monotonic() - self.started:.0f}s"

    def close(self) -> None:
        """Clear the bar's line."""
        if self.enabled:
            sys.stderr.write("\r\033[K")


def _number(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def generation_line(data: dict[str, Any]) -> str:
    """One generation of a weights cycle's evolution, as the progress bar shows it."""
    gen, total = data["generation"], data.get("total")
    if total:
        filled = int(24 * min(1.0, gen / total))
        head = f"[{'#' * filled:<24}] gen {gen}/{total}"
    else:
        head = f"gen {gen}"
    escape = data.get("escape_p")
    extra = "" if escape is None else f", p_escape {escape:.3f}"
    return (
        f"{head}: best {_number(data.get('best'))}, mean {_number(data.get('mean'))}"
        f"{extra}, {data.get('env_steps', 0):,} env steps"
    )


def _registry(args: argparse.Namespace):
    return load_registry(targets_dir(args.targets), state_dir(args.state))


def _store(args: argparse.Namespace) -> Store:
    return open_store(state_dir(args.state))


def summary(report: dict[str, Any]) -> str:
    """The human summary of a cycle report."""
    r = report
    lines = [f"{r['target']} cycle {r['cycle']}: {r['status'].upper()} — {r['reason']}"]
    run = r.get("evolution")
    if r["baseline_score"] is not None and run is None:
        best = "-" if r["best_score"] is None else f"{r['best_score']:.3f}"
        lines.append(
            f"  candidates tried: {r['candidates']}, baseline score "
            f"{r['baseline_score']:.3f}, best {best}, "
            f"sandbox {r['sandbox_seconds']:.1f}s, wall {r['seconds']:.1f}s"
        )
    if run is not None:
        resumed = f" (resumed at {run['resumed_at']})" if run["resumed_at"] else ""
        lines += [
            f"  held-out return ({run['holdout_episodes']} episodes): committed "
            f"{_number(r['baseline_score'], '.2f')}, evolved {_number(r['best_score'], '.2f')}",
            f"  {run['method']}: {run['generations']} generations{resumed}, "
            f"{r['candidates']} genomes, {run['env_steps']:,} env steps (stopped: "
            f"{run['stopped']}); sandbox {r['sandbox_seconds']:.1f}s, wall {r['seconds']:.1f}s",
            f"  training curve: {run['curve_png']} (and .csv)",
        ]
    if r["commit"]:
        lines.append(f"  commit {r['commit']}")
    if r["revert"]:
        lines.append(f"  reverted by {r['revert']}")
    lines += [f"  recovered: {action}" for action in r["recovered"]]
    return "\n".join(lines)


def cmd_cycle(args: argparse.Namespace) -> int:
    """`nmctl cycle NAME`: through the running nmd, or here with --local.

    Exit status 0 unless the cycle ended in error.
    """
    state = state_dir(args.state)
    progress = TerminalProgress(sys.stderr.isatty() and not args.json)
    try:
        report = (
            _cycle_local(args, state, progress)
            if args.local
            else _cycle_remote(args, state, progress)
        )
    finally:
        progress.close()
    print(json.dumps(report, indent=2) if args.json else summary(report))
    return 1 if report["status"] == "error" else 0


def _cycle_remote(args: argparse.Namespace, state: Path, progress: TerminalProgress) -> Any:
    path = socket_path(state)
    try:
        return call(
            path,
            {"cmd": "cycle", "name": args.name},
            on_event=lambda e: progress(e.pop("kind"), **e),
        )
    except NotRunning:
        raise Error(
            f"nmd is not running (no answer on {path}): start it with "
            f"`bash daemon/bootstrap.sh run`, or run the cycle in this process with "
            f"`nmctl cycle {args.name} --local`"
        ) from None


def _cycle_local(args: argparse.Namespace, state: Path, progress: TerminalProgress) -> Any:
    from daemon.cycles.learn import run_and_learn

    spec = load_registry(targets_dir(args.targets), state).get(args.name)
    backend = open_backend(
        state, args.backend, allow_bwrap_fallback=args.allow_bwrap, image=args.image
    )
    store = open_store(state)
    try:
        return run_and_learn(spec, state, backend, store, forced=True, progress=progress).to_dict()
    finally:
        store.close()


def cmd_log(args: argparse.Namespace) -> int:
    """`nmctl log NAME`."""
    spec = _registry(args).get(args.name)
    entries = open_ledger(spec).log(spec.name, args.n)
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    if not entries:
        print(f"no Neuromutant commits on {spec.name} yet ({spec.repo})")
    for entry in entries:
        t = entry["trailers"]
        mark = " [reverted]" if entry["reverted"] else ""
        print(f"{entry['sha'][:12]} {entry['date']} {entry['subject']}{mark}")
        if "Reverts" in t:
            print(f"    reverts {t['Reverts'][:12]}: {t.get('Reason', '')}")
        elif "Method" in t:
            print(
                f"    cycle {t.get('Cycle', '?')}, {t['Method']}, held-out return "
                f"{t.get('Score', '?')} over {t.get('Episodes', '?')} episodes, "
                f"{t.get('Generations', '?')} generations, {t.get('Env-Steps', '?')} env steps"
            )
        else:
            print(
                f"    cycle {t.get('Cycle', '?')}, {t.get('Operator', '?')} at "
                f"{t.get('Site', '?')}, score {t.get('Score', '?')}, "
                f"{t.get('Candidates', '?')} candidates"
            )
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """`nmctl history NAME`."""
    spec = _registry(args).get(args.name)
    store = _store(args)
    cycles = store.cycles(spec.name, args.n)
    if args.json:
        print(json.dumps(cycles, indent=2))
        return 0
    if not cycles:
        print(f"no cycles of {spec.name} yet; run one with `nmctl cycle {spec.name}`")
    for c in cycles:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(c["started_at"]))
        score = "" if c["baseline_score"] is None else f" score {c['baseline_score']:.3f}"
        best = "" if c["best_score"] is None else f" -> {c['best_score']:.3f}"
        print(
            f"#{c['number']:<4} {when} {c['status']:<11}{score}{best} "
            f"{c['candidates']} candidates  {c['reason']}"
        )
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    """`nmctl rollback NAME [--to COMMIT]`: revert commits, newest first."""
    state = state_dir(args.state)
    spec = _registry(args).get(args.name)
    with target_lock(state, spec.name):
        ledger = open_ledger(spec)
        ledger.recover()
        live = [
            e
            for e in ledger.log(spec.name, 1000)
            if not e["reverted"] and "Reverts" not in e["trailers"]
        ]
        if args.to:
            try:
                stop = ledger.repo.commit(args.to).hexsha
            except Exception:
                raise Error(f"--to {args.to}: no such commit in {spec.repo}") from None
            order = ledger.repo.git.rev_list(f"{stop}..HEAD").splitlines()
            victims = [e for e in live if e["sha"] in order]
        else:
            victims = live[:1]
        if not victims:
            raise Error(f"nothing to roll back: no unreverted Neuromutant commit on {spec.name}")
        store = open_store(state)
        reverts = []
        for entry in victims:
            subject = f'Revert "{entry["subject"]}"'
            try:
                sha = ledger.revert(
                    entry["sha"],
                    format_message(
                        subject,
                        f"This reverts commit {entry['sha']}.\n\nRolled back by hand.",
                        {"Target": spec.name, "Reverts": entry["sha"], "Reason": "nmctl rollback"},
                    ),
                )
            except LedgerError as exc:
                raise Error(f"stopped after {len(reverts)} revert(s): {exc}") from None
            store.add_commit(spec.name, None, sha, "revert", subject)
            reverts.append({"reverted": entry["sha"], "revert": sha, "subject": subject})
        store.close()
    if args.json:
        print(json.dumps(reverts, indent=2))
    else:
        for r in reverts:
            print(f"{r['revert'][:12]} {r['subject']}")
    return 0
