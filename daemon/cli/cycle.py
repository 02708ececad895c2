"""`nmctl cycle NAME`: run one forced improvement cycle now, and say how it ended.

Through nmd, the request goes ahead of every scheduled cycle; the first line
says at once whether it waits and for what. Ctrl-C while it is still queued
cancels it (nmd sees the connection close); once it runs, the cycle goes on in
nmd and `nmctl watch` follows it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from daemon.cli import options
from daemon.cli.progress import TerminalProgress
from daemon.cycles import run_cycle
from daemon.errors import Error, LedgerError, NotRunning
from daemon.service.control import call, socket_path
from daemon.store import open_store
from sandbox.backend import open_backend


def add_parsers(commands: options.Commands) -> None:
    """Register `cycle`."""
    cycle = commands.add_parser(
        "cycle",
        help="run one forced cycle of a target now",
        description="Run one forced improvement cycle of NAME now: baseline, candidates in "
        "the sandbox (mutations of a code target, generations of a weights target), commit "
        "of the best real improvement, verification. Goes through the running nmd, which "
        "streams its progress back; it goes ahead of every scheduled cycle, and a scheduled "
        "cycle holding the only slot yields it at its next checkpoint (then runs again). "
        "Ctrl-C cancels a request still queued; a cycle already running keeps running "
        "(`nmctl watch` follows it). --local runs it in this process instead. A lock per "
        "target keeps two cycles of one target from running at once. Exit status 1 if the "
        "cycle ended in error, 130 on Ctrl-C.",
    )
    cycle.add_argument("name", help="the target, as `nmctl targets list` names it")
    options.add_targets(cycle)
    options.add_backend_options(cycle)
    cycle.add_argument(
        "--local",
        action="store_true",
        help="run the cycle in this process instead of through the running nmd "
        "(--targets and the backend options apply only then)",
    )
    options.add_json(cycle, "print the cycle's full report as JSON (no progress bar)")
    cycle.set_defaults(func=cmd_cycle)


def cmd_cycle(args: argparse.Namespace) -> int:
    """`nmctl cycle NAME`: through the running nmd, or here with --local.

    Exit status 0 unless the cycle ended in error.
    """
    state = options.state(args)
    progress = TerminalProgress(sys.stderr.isatty() and not args.json, announce=not args.json)
    try:
        if args.local:
            report = _cycle_local(args, state, progress)
        else:
            report = _cycle_remote(args, state, progress)
    finally:
        progress.close()
    options.emit(args, report, summary(report))
    return 1 if report["status"] == "error" else 0


def _cycle_remote(args: argparse.Namespace, state: Path, progress: TerminalProgress) -> Any:
    try:
        return call(
            socket_path(state), {"cmd": "cycle", "name": args.name}, on_event=progress.on_wire
        )
    except KeyboardInterrupt:  # `call` closed the connection: nmd drops a queued request
        progress.close()
        if progress.running:
            print(
                f"nmctl: {args.name}'s cycle keeps running in nmd; follow it with "
                "`nmctl watch` (or `nmctl status`)",
                file=sys.stderr,
            )
        else:
            print(f"nmctl: cancelled: {args.name}'s request leaves nmd's queue", file=sys.stderr)
        raise
    except NotRunning as exc:
        raise Error(
            f"{exc}: start it with `bash daemon/bootstrap.sh run`, or run the cycle in this "
            f"process with `nmctl cycle {args.name} --local`"
        ) from None


def _cycle_local(args: argparse.Namespace, state: Path, progress: TerminalProgress) -> Any:
    spec = options.registry(args).get(args.name)
    backend = open_backend(
        state, args.backend, allow_bwrap_fallback=args.allow_bwrap, image=args.image
    )
    with open_store(state) as store:
        try:
            report = run_cycle(spec, state, backend, store, forced=True, progress=progress)
        except LedgerError as exc:  # its message names the path; say whose it is
            raise LedgerError(f"{args.name}: {exc}") from None
    return report.to_dict()


def _number(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def summary(report: dict[str, Any]) -> str:
    """The human summary of a cycle report."""
    r = report
    lines = [f"{r['target']} cycle {r['cycle']}: {r['status'].upper()} — {r['reason']}"]
    run = r.get("evolution")
    if r["baseline_score"] is not None and run is None:
        lines.append(
            f"  candidates tried: {r['candidates']}, baseline score "
            f"{r['baseline_score']:.3f}, best {_number(r['best_score'], '.3f')}, "
            f"sandbox {r['sandbox_seconds']:.1f}s, wall {r['seconds']:.1f}s"
        )
    if run is not None:
        lines += _evolution_lines(r, run)
    if r.get("objective"):
        lines += _objective_lines(r["objective"])
    if r["commit"]:
        lines.append(f"  commit {r['commit']}")
    if r["revert"]:
        lines.append(f"  reverted by {r['revert']}")
    lines += [f"  recovered: {action}" for action in r["recovered"]]
    return "\n".join(lines)


def _objective_lines(objective: dict[str, Any]) -> list[str]:
    steps = objective["climb"]
    lines = [
        f"  objective: {objective['kind']} ({objective['unit']}, shown in its own sign); "
        f"{objective['env_steps']:,} env steps"
    ]
    lines += [
        f"  climb {i}: {step['summary']} -> training {step['training']}"
        for i, step in enumerate(steps, 1)
    ]
    return lines


def _evolution_lines(r: dict[str, Any], run: dict[str, Any]) -> list[str]:
    resumed = f" (resumed at {run['resumed_at']})" if run["resumed_at"] else ""
    return [
        f"  held-out return ({run['holdout_episodes']} episodes): committed "
        f"{_number(r['baseline_score'], '.2f')}, evolved {_number(r['best_score'], '.2f')}",
        f"  {run['method']}: {run['generations']} generations{resumed}, "
        f"{r['candidates']} genomes, {run['env_steps']:,} env steps (stopped: "
        f"{run['stopped']}); sandbox {r['sandbox_seconds']:.1f}s, wall {r['seconds']:.1f}s",
        f"  training curve: {run['curve_png']} (and .csv)",
    ]
