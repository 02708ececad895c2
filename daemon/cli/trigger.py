"""`nmctl trigger NAME`: what a target's trigger sees, has learned and decided, and why.

The trigger decides, at each scheduled tick, whether to run a cycle and how
big; its policy is that decision rule (Q-learning by default). `nmctl policy`
is the old name of this command, kept as an alias that says so.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from typing import Any

from daemon.cli import options
from daemon.cycles.trigger import TRIGGER, load_trigger, trigger_state
from daemon.registry import TargetSpec
from daemon.store import Store, open_store
from policies.trigger import ACTIONS, QTrigger, features, state_key

DESCRIPTION = (
    "Explain the trigger of NAME, which decides at each scheduled tick whether to run a "
    "cycle, and how big: the state a tick would see now (ROI EMA bucket and trend, files "
    "changed since the last cycle, recent acceptance rate, failure streak, time since the "
    "last cycle), the learned value of skip, act-small and act-large in that state, "
    "exploration, each cycle's ROI (score gained per sandbox minute) with its moving "
    "average, and the last decisions with their reasons. Reads the state database: works "
    "with or without nmd running. See docs/policy.md."
)
DEPRECATED = "nmctl: `nmctl policy` is now `nmctl trigger`; the old name will go away"


def add_parsers(commands: options.Commands) -> None:
    """Register `trigger`, and `policy` as a deprecated alias left out of the help."""
    trigger = commands.add_parser(
        "trigger",
        help="a target's trigger: state, Q-values, ROI EMA, last decisions",
        description=DESCRIPTION,
    )
    _arguments(trigger)
    trigger.set_defaults(func=cmd_trigger)
    alias = commands.add_parser(  # no help=: not listed, as it is deprecated
        "policy", description=f"Deprecated name of `nmctl trigger`. {DESCRIPTION}"
    )
    _arguments(alias)
    alias.set_defaults(func=cmd_policy_alias)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the target")
    parser.add_argument(
        "--last",
        type=int,
        default=10,
        metavar="N",
        help="show the last N ROI points and decisions (default: 10)",
    )
    options.add_location(parser)
    options.add_json(parser, "print everything shown, and the whole Q-table, as JSON")


def explain(spec: TargetSpec, store: Store, now: float, last: int = 10) -> dict[str, Any]:
    """Everything `nmctl trigger` shows, as plain data."""
    config = spec.config.trigger
    table = load_trigger(spec, store.policy_state(spec.name, TRIGGER))
    here: dict[str, Any]
    try:
        facts = trigger_state(spec, store, now)
    except Exception as exc:  # the repository cannot be read: show the rest anyway
        here = {"error": str(exc)}
    else:
        feats = features(facts, table.options.hurdle)
        key = state_key(feats)
        here = {
            "facts": dataclasses.asdict(facts),
            "features": feats,
            "key": key,
            "q": table.values(key),
            "visits": {a: table.visits.get(key, {}).get(a, 0) for a in ACTIONS},
            "best": table.best(key),
        }
    pending = table.pending
    return {
        "target": spec.name,
        "policy": config.policy,
        "options": {"alpha": config.alpha, **dataclasses.asdict(table.options)},
        "epsilon": table.epsilon(),
        "decisions": table.decisions,
        "updates": table.updates,
        "states_seen": len(table.q),
        "pending": None if pending is None else dataclasses.asdict(pending),
        "state": here,
        "roi": store.roi_series(spec.name, last),
        "last_decisions": store.decisions(spec.name, last),
        "table": table.q,
    }


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def _ago(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _values(q: dict[str, float] | None, visits: dict[str, int] | None = None) -> str:
    if not q:
        return "-"
    return "  ".join(
        f"{a} {q.get(a, 0.0):+.4g}" + (f" ({visits.get(a, 0)}x)" if visits is not None else "")
        for a in ACTIONS
    )


def render(info: dict[str, Any]) -> str:
    """The human text of `explain`'s data."""
    o = info["options"]
    deciding = "" if info["policy"] == QTrigger.name else " (learning alongside; not deciding)"
    lines = [
        f"{info['target']}: trigger policy {info['policy']}; hurdle {o['hurdle']:g} "
        f"score per sandbox minute, ROI EMA alpha {o['alpha']:g}",
        f"  Q-learning{deciding}: {info['decisions']} decisions, {info['updates']} updates, "
        f"{info['states_seen']} states seen; epsilon now {info['epsilon']:.3f} (from "
        f"{o['epsilon']:g}, x{o['decay']:g} per decision, floor {o['epsilon_min']:g}), "
        f"gamma {o['gamma']:g}",
        "",
        *_state_lines(info["state"]),
        "",
        "ROI per sandbox minute and its EMA, newest last:",
        *_roi_lines(info["roi"]),
        "",
        "Last decisions, newest last:",
        *_decision_lines(info["last_decisions"]),
    ]
    return "\n".join(lines)


def _state_lines(here: dict[str, Any]) -> list[str]:
    if "error" in here:
        return [f"State now: unknown ({here['error']})"]
    facts = here["facts"]
    detail = []
    if facts["changed_files"] is None:
        detail.append("no cycle has searched yet")
    else:
        detail.append(f"{facts['changed_files']} file(s) changed since the last cycle")
        detail.append(f"{_ago(facts['since'])} since it ended")
    if facts["ema"] is not None:
        detail.append(f"ROI EMA {facts['ema']:.4g}")
    if facts["recent"]:
        detail.append(f"last cycles: {', '.join(facts['recent'])}")
    return [
        f"State now: {' '.join(f'{k}={v}' for k, v in here['features'].items())}",
        f"  {'; '.join(detail)}",
        f"  Q-values: {_values(here['q'], here['visits'])}  -> greedy: {here['best']}",
    ]


def _roi_lines(points: list[dict[str, Any]]) -> list[str]:
    if not points:
        return ["  no cycle has searched yet"]
    lines = [f"  {'cycle':>5}  {'status':<9} {'gain':>6} {'minutes':>8} {'roi':>9} {'ema':>9}"]
    for p in reversed(points):
        lines.append(
            f"  {p['cycle']:>5}  {p['status']:<9} {p['gain']:>6.3f} {p['cost']:>8.1f} "
            f"{p['roi']:>9.4g} {p['ema']:>9.4g}"
        )
    return lines


def _decision_lines(decisions: list[dict[str, Any]]) -> list[str]:
    if not decisions:
        return ["  none yet"]
    lines = []
    for d in reversed(decisions):
        action = d["action"] + (f" ({d['share']:g})" if d["share"] else "")
        flags = " [explored]" if d["explored"] else ""
        flags += " [forced]" if d["forced"] else ""
        outcome = ""
        if d["cycle"] is not None:
            roi = "" if d["roi"] is None else f", ROI {d['roi']:.4g}, reward {d['reward']:+.4g}"
            outcome = f" -> cycle {d['cycle']} {d['status']}{roi}"
        lines += [
            f"  {_when(d['at'])}  {action}{flags}{outcome}",
            f"      why: {d['reason']}",
            f"      in: {' '.join(f'{k}={v}' for k, v in d['state'].items())}",
            f"      Q: {_values(d['q'])}",
        ]
    return lines


def cmd_trigger(args: argparse.Namespace) -> int:
    """`nmctl trigger NAME`."""
    state = options.state(args)
    spec = options.registry(args).get(args.name)
    with open_store(state) as store:
        info = explain(spec, store, time.time(), max(1, args.last))
    options.emit(args, info, render(info))
    return 0


def cmd_policy_alias(args: argparse.Namespace) -> int:
    """`nmctl policy NAME`: the old name; says so on stderr, then does `trigger`."""
    print(DEPRECATED, file=sys.stderr)
    return cmd_trigger(args)
