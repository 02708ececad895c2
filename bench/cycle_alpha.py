"""Cycles on the example bot alpha from a fresh state: throughput and time to repair.

Runs forced cycles of alpha in a temporary state directory until a cycle
accepts nothing, and reports candidates evaluated per minute, the time and the
sandbox runs (containers started) to the first accepted repair and to the last,
and the defects left.

    python bench/cycle_alpha.py [--max-cycles 8] [--order learned] [--json out.json]
    python bench/cycle_alpha.py --max-cycles 1 --candidates 200 --batch 1   # no batching
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from daemon.cycles import run_cycle  # noqa: E402
from daemon.registry import load_registry  # noqa: E402
from daemon.store import open_store  # noqa: E402
from sandbox.docker_backend import DockerBackend  # noqa: E402


class Counting:
    """A backend that counts the sandboxes it starts."""

    def __init__(self, backend) -> None:
        self.backend, self.name, self.runs = backend, backend.name, 0

    def run(self, job):
        self.runs += 1
        return self.backend.run(job)

    def describe(self):
        return self.backend.describe()


def override(spec, batch: int | None, candidates: int | None, order: str | None = None):
    config = spec.config
    if order:
        config = config.model_copy(
            update={"search": config.search.model_copy(update={"order": order})}
        )
    if batch:
        config = config.model_copy(
            update={"sandbox": config.sandbox.model_copy(update={"batch": batch})}
        )
    if candidates:
        config = config.model_copy(
            update={"budget": config.budget.model_copy(update={"candidates": candidates})}
        )
    return dataclasses.replace(spec, config=config)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-cycles", type=int, default=8)
    parser.add_argument("--batch", type=int, help="candidates per sandbox (1: a container each)")
    parser.add_argument("--candidates", type=int, help="cap on candidates per cycle")
    parser.add_argument("--order", choices=["learned", "random", "plain"], help="search order")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=ROOT / "state") as tmp:
        state = Path(tmp)
        spec = load_registry(ROOT / "targets", state).get("alpha")
        spec = override(spec, args.batch, args.candidates, args.order)
        backend = Counting(DockerBackend(state))
        store = open_store(state)
        started = time.monotonic()
        cycles = []
        for _ in range(args.max_cycles):
            report = run_cycle(spec, state, backend, store)
            cycles.append(
                {
                    **report.to_dict(),
                    "elapsed": time.monotonic() - started,
                    "sandbox_runs": backend.runs,
                }
            )
            print(
                f"cycle {report.cycle}: {report.status} {report.candidates} candidates "
                f"{report.seconds:.1f}s — {report.reason}",
                file=sys.stderr,
            )
            if report.status != "accepted":
                break
    accepted = [c for c in cycles if c["status"] == "accepted"]
    candidates = sum(c["candidates"] for c in cycles)
    minutes = sum(c["seconds"] for c in cycles) / 60
    figures = {
        "machine": f"{platform.node()} ({os.cpu_count()} cores)",
        "order": spec.config.search.order,
        "cycles": len(cycles),
        "accepted": len(accepted),
        "candidates": candidates,
        "candidates_per_minute": candidates / minutes if minutes else 0.0,
        "first_repair_seconds": accepted[0]["elapsed"] if accepted else None,
        "first_repair_sandbox_runs": accepted[0]["sandbox_runs"] if accepted else None,
        "all_repairs_seconds": accepted[-1]["elapsed"] if accepted else None,
        "all_repairs_sandbox_runs": accepted[-1]["sandbox_runs"] if accepted else None,
        "final_status": cycles[-1]["status"],
        "final_reason": cycles[-1]["reason"],
    }
    for key, value in figures.items():
        print(f"{key:<28} {value:.2f}" if isinstance(value, float) else f"{key:<28} {value}")
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "cycles": cycles}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
