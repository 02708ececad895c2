"""`nmctl policy NAME`: what the trigger policy sees, has learned and decided, and why."""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from typing import Any

from daemon.cli.targets import add_common
from daemon.cycles.learn import TRIGGER, load_policy, trigger_state
from daemon.paths import state_dir, targets_dir
from daemon.registry import TargetSpec, load_registry
from daemon.store import Store, open_store
from policies.trigger import ACTIONS, QTrigger, features, state_key


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register `nmctl policy`."""
    policy = commands.add_parser(
        "policy",
        help="a target's trigger policy: state, Q-values, ROI EMA, last decisions",
        description="Explain the trigger policy of NAME: the state a tick would see now "
        "(ROI EMA bucket and trend, files changed since the last cycle, recent acceptance "
        "rate, failure streak, time since the last cycle), the learned value of skip, "
        "act-small and act-large in that state, exploration, each cycle's ROI (score "
        "gained per sandbox minute) with its moving average, and the last decisions with "
        "their reasons. Reads the state database: works with or without nmd running. "
        "See docs/policy.md.",
    )
    policy.add_argument("name")
    policy.add_argument(
        "--last",
        type=int,
        default=10,
        metavar="N",
        help="show the last N ROI points and decisions (default: 10)",
    )
    add_common(policy)
    policy.add_argument("--json", action="store_true", help="print as JSON")
    policy.set_defaults(func=cmd_policy)


def explain(spec: TargetSpec, store: Store, now: float, last: int = 10) -> dict[str, Any]:
    """Everything `nmctl policy` shows, as plain data."""
    config = spec.config.trigger
    table = load_policy(spec, store.policy_state(spec.name, TRIGGER))
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
    ]
    here = info["state"]
    if "error" in here:
        lines.append(f"State now: unknown ({here['error']})")
    else:
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
        lines += [
            f"State now: {' '.join(f'{k}={v}' for k, v in here['features'].items())}",
            f"  {'; '.join(detail)}",
            f"  Q-values: {_values(here['q'], here['visits'])}  -> greedy: {here['best']}",
        ]
    lines += ["", "ROI per sandbox minute and its EMA, newest last:"]
    if not info["roi"]:
        lines.append("  no cycle has searched yet")
    else:
        lines.append(
            f"  {'cycle':>5}  {'status':<9} {'gain':>6} {'minutes':>8} {'roi':>9} {'ema':>9}"
        )
        for p in reversed(info["roi"]):
            lines.append(
                f"  {p['cycle']:>5}  {p['status']:<9} {p['gain']:>6.3f} {p['cost']:>8.1f} "
                f"{p['roi']:>9.4g} {p['ema']:>9.4g}"
            )
    lines += ["", "Last decisions, newest last:"]
    if not info["last_decisions"]:
        lines.append("  none yet")
    for d in reversed(info["last_decisions"]):
        action = d["action"] + (f" ({d['budget']:g})" if d["budget"] else "")
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
    return "\n".join(lines)


def cmd_policy(args: argparse.Namespace) -> int:
    """`nmctl policy NAME`."""
    state = state_dir(args.state)
    spec = load_registry(targets_dir(args.targets), state).get(args.name)
    store = open_store(state)
    try:
        info = explain(spec, store, time.time(), max(1, args.last))
    finally:
        store.close()
    print(json.dumps(info, indent=2) if args.json else render(info))
    return 0
