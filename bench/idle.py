"""What an idle nmd costs: resident memory and CPU with N registered targets.

Starts a real nmd on a temporary state directory with N targets whose
schedules are nightly (so no cycle runs), waits until it is ready, then
samples its RSS and CPU time over a window. Compared with 0 targets.

    python bench/idle.py [--targets 10] [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = """\
name = "{name}"
repo = "{{state}}/bots/{name}"
example = "{example}"
files = ["alpha/*.py"]
schedule = {{ cron = "0 3 * * *" }}
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(count: int, seconds: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(dir=ROOT / "state") as tmp:
        targets, state = Path(tmp) / "targets", Path(tmp) / "state"
        targets.mkdir()
        for index in range(count):
            name = f"bot{index}"
            (targets / f"{name}.toml").write_text(
                TARGET.format(name=name, example=ROOT / "targets/examples/alpha")
            )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daemon.service.nmd",
                "--targets",
                str(targets),
                "--state",
                str(state),
            ],
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            for line in proc.stderr:
                if 'msg="ready' in line:
                    break
            before, started = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(seconds)  # the measured window: nothing to wait on, by design
            cpu = (cpu_seconds(proc.pid) - before) / (time.monotonic() - started) * 100
            return rss_mib(proc.pid), cpu
        finally:
            proc.terminate()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    print(f"{platform.node()} ({os.cpu_count()} cores), window {args.seconds:.0f}s")
    base_rss, base_cpu = measure(0, args.seconds)
    rss, cpu = measure(args.targets, args.seconds)
    print(f"{'targets':<10}{'RSS MiB':>10}{'CPU %':>10}")
    print(f"{0:<10}{base_rss:>10.1f}{base_cpu:>10.3f}")
    print(f"{args.targets:<10}{rss:>10.1f}{cpu:>10.3f}")
    print(f"ratio     {rss / base_rss:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
