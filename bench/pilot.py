"""Five tuning cycles of the example bot pilot from a fresh state, as a user runs them.

Runs ``nmctl cycle pilot --local --json`` the given number of times in a
temporary state directory (so the bot starts from its detuned example code),
and reports per cycle: status, wall time, candidates, the held-out mean of the
committed code before and after (the cycle's 100 acceptance episodes), and the
edits committed. After the last cycle, the committed controller plays 100
episodes on seeds no cycle ever uses (above every cycle's blocks), in this
process, as an independent check.

    python bench/pilot.py [--cycles 5] [--json out.json] [--state DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UNSEEN = 2**31
"""First seed of the final check: above every training and held-out block of any cycle."""


def cycle(state: Path) -> dict[str, Any]:
    """One forced local cycle through nmctl; its JSON report, with its wall time."""
    command = [sys.executable, "-m", "daemon.cli.main", "cycle", "pilot", "--local", "--json"]
    command += ["--state", str(state)]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    try:
        report = json.loads(done.stdout)
    except ValueError:
        why = done.stderr[-2000:]
        raise SystemExit(f"nmctl cycle pilot failed ({done.returncode}): {why}") from None
    return {**report, "wall": wall}


def unseen_mean(repo: Path, episodes: int = 100) -> float:
    """The committed controller's mean return over `episodes` seeds no cycle used."""
    import gymnasium as gym

    spec = importlib.util.spec_from_file_location("pilot_controller", repo / "pilot/controller.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    env = gym.make("LunarLander-v3")
    total = 0.0
    for seed in range(UNSEEN, UNSEEN + episodes):
        observation, _ = env.reset(seed=seed)
        done = False
        while not done:
            observation, reward, terminated, truncated, _ = env.step(module.act(observation))
            total += float(reward)
            done = terminated or truncated
    return total / episodes


def row(number: int, report: dict[str, Any]) -> dict[str, Any]:
    """What the table shows of one cycle."""
    objective = report.get("objective") or {}
    return {
        "cycle": number,
        "status": report["status"],
        "wall_seconds": round(report["wall"], 1),
        "sandbox_seconds": round(report["sandbox_seconds"], 1),
        "candidates": report["candidates"],
        "held_out_before": report["baseline_score"],
        "held_out_after": report["best_score"] if report["status"] == "accepted" else None,
        "edits": [step["summary"] for step in objective.get("climb", [])],
        "env_steps": objective.get("env_steps", 0),
        "reason": report["reason"],
    }


def main() -> int:
    """Run the cycles and print one line per cycle, then the unseen check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--state", type=Path, help="state directory (default: a fresh one)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    state = args.state or Path(tempfile.mkdtemp(prefix="nm-pilot-"))
    rows = []
    for number in range(1, args.cycles + 1):
        rows.append(row(number, cycle(state)))
        r = rows[-1]
        after = "-" if r["held_out_after"] is None else f"{r['held_out_after']:.1f}"
        print(
            f"cycle {number}: {r['status']}, held-out {r['held_out_before']:.1f} -> {after}, "
            f"{len(r['edits'])} edits, {r['candidates']} candidates, "
            f"{r['wall_seconds']:.0f} s wall",
            flush=True,
        )
    final = unseen_mean(state / "bots" / "pilot")
    print(f"committed controller on 100 unseen episodes: mean return {final:.1f}")
    result = {
        "machine": f"{platform.node()} ({os.cpu_count()} cores)",
        "cycles": rows,
        "unseen_mean": final,
        "command": " ".join(["python", "bench/pilot.py", *sys.argv[1:]]),
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
