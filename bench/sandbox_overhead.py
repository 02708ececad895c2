"""Time per candidate: native, a container per candidate, bubblewrap, and batch mode.

A small pytest suite and N variants of its module are evaluated in each mode;
the figure is the median seconds per candidate, and the ratio to the native
modes. Batch modes are timed whole (container start included) and divided by
N, once per repeat; per-candidate modes are timed one candidate at a time.

    python bench/sandbox_overhead.py                  # all modes, 200 candidates
    python bench/sandbox_overhead.py --modes batch-docker native-fork --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.evaluate import Candidate, batch_job, run_batch, run_tests  # noqa: E402
from sandbox.job import Limits  # noqa: E402

MODULE = textwrap.dedent(
    """\
    BULK_THRESHOLD = {threshold}
    BULK_DISCOUNT = 0.1


    def unit_price(base, quantity):
        if quantity >= BULK_THRESHOLD:
            return round(base * (1 - BULK_DISCOUNT), 2)
        return base


    def total(base, quantity):
        return round(unit_price(base, quantity) * quantity, 2)


    def clamp(value, low, high):
        return max(low, min(value, high))
    """
)
TESTS = textwrap.dedent(
    """\
    import pytest

    from shop.pricing import clamp, total, unit_price


    @pytest.mark.parametrize("quantity", [1, 5, 9])
    def test_small_orders_pay_full_price(quantity):
        assert unit_price(10.0, quantity) == 10.0


    @pytest.mark.parametrize("quantity", [10, 50])
    def test_bulk_orders_get_the_discount(quantity):
        assert unit_price(10.0, quantity) == 9.0


    def test_total():
        assert total(2.0, 10) == 18.0


    @pytest.mark.parametrize(("value", "expected"), [(-1, 0), (5, 5), (11, 10)])
    def test_clamp(value, expected):
        assert clamp(value, 0, 10) == expected
    """
)


def make_tree(root: Path) -> Path:
    tree = root / "tree"
    (tree / "shop").mkdir(parents=True)
    (tree / "tests").mkdir()
    (tree / "shop" / "__init__.py").write_text("")
    (tree / "shop" / "pricing.py").write_text(MODULE.format(threshold=10))
    (tree / "tests" / "test_pricing.py").write_text(TESTS)
    for path in [tree, *tree.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return tree


def variants(count: int) -> list[Candidate]:
    return [
        Candidate(f"c{i}", {"shop/pricing.py": MODULE.format(threshold=i % 20)})
        for i in range(count)
    ]


def time_each(candidates: list[Candidate], run_one: Callable[[Candidate], None]) -> list[float]:
    times = []
    for index, candidate in enumerate(candidates):
        started = time.perf_counter()
        run_one(candidate)
        times.append(time.perf_counter() - started)
        print(f"\r  {index + 1}/{len(candidates)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return times


def native_subprocess(tree: Path, candidates: list[Candidate], work: Path) -> list[float]:
    """Plain `python -m pytest` per candidate on a scratch copy: no sandbox at all."""
    scratch = work / "native"

    def one(candidate: Candidate) -> None:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(tree, scratch)
        for rel, text in candidate.overlays.items():
            (scratch / rel).write_text(text)
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
            cwd=scratch,
            capture_output=True,
            env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
            check=False,
        )

    return time_each(candidates, one)


def native_fork(tree: Path, candidates: list[Candidate], work: Path, repeats: int) -> list[float]:
    """The batch harness run directly on the host: import once, fork per candidate."""
    job = batch_job(tree, candidates, ["tests"], Limits(timeout=60))
    scratch = work / "fork-scratch"
    document = {
        "payload": {**job.payload, "src": str(tree), "scratch": str(scratch), "wipe": []},
    }
    job_file = work / "fork-job.json"
    job_file.write_text(json.dumps(document))
    env = {
        **os.environ,
        **job.env,
        "PYTHONPATH": str(ROOT / "sandbox"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    per_candidate = []
    for _ in range(repeats):
        scratch.mkdir(exist_ok=True)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "runners.batch", str(job_file)],
            env=env,
            check=True,
            capture_output=True,
        )
        per_candidate.append((time.perf_counter() - started) / len(candidates))
        assert len(done.stdout.splitlines()) == len(candidates)
    return per_candidate


def per_job(backend, tree: Path, candidates: list[Candidate]) -> list[float]:
    def one(candidate: Candidate) -> None:
        run = run_tests(backend, tree, ["tests"], overlays=candidate.overlays)
        assert run.valid, run.reason

    return time_each(candidates, one)


def batch(backend, tree: Path, candidates: list[Candidate], repeats: int) -> list[float]:
    per_candidate = []
    for _ in range(repeats):
        started = time.perf_counter()
        runs = run_batch(backend, tree, candidates, ["tests"], limits=Limits(timeout=60))
        per_candidate.append((time.perf_counter() - started) / len(candidates))
        assert all(r.valid for r in runs), [r.reason for r in runs if not r.valid][:3]
    return per_candidate


MODES = ["native-subprocess", "native-fork", "docker", "bwrap", "batch-docker", "batch-bwrap"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the batch modes")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=MODES)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=ROOT / "state") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        tree = make_tree(work)
        candidates = variants(args.candidates)
        backends = {}
        if any("docker" in m for m in args.modes):
            from sandbox.docker_backend import DockerBackend

            backends["docker"] = DockerBackend(work / "state")
        if any("bwrap" in m for m in args.modes):
            from sandbox.bwrap_backend import BwrapBackend

            backends["bwrap"] = BwrapBackend(work / "state")
        medians = {}
        for mode in args.modes:
            print(f"{mode}:", file=sys.stderr)
            if mode == "native-subprocess":
                times = native_subprocess(tree, candidates, work)
            elif mode == "native-fork":
                times = native_fork(tree, candidates, work, args.repeats)
            elif mode.startswith("batch-"):
                times = batch(backends[mode.removeprefix("batch-")], tree, candidates, args.repeats)
            else:
                times = per_job(backends[mode], tree, candidates)
            medians[mode] = statistics.median(times)

    print(
        f"{args.candidates} candidates, {platform.node()} ({os.cpu_count()} cores), "
        f"Python {platform.python_version()}"
    )
    print(f"{'mode':<20}{'s/candidate':>14}{'x native-fork':>16}{'x native-subprocess':>22}")
    for mode, median in medians.items():
        fork = medians.get("native-fork")
        sub = medians.get("native-subprocess")
        print(
            f"{mode:<20}{median:>14.4f}{(median / fork if fork else float('nan')):>16.2f}"
            f"{(median / sub if sub else float('nan')):>22.2f}"
        )
    if "batch-docker" in medians and "docker" in medians:
        print(
            f"batch-docker is {medians['docker'] / medians['batch-docker']:.1f}x faster "
            "than a container per candidate"
        )
    if args.json:
        args.json.write_text(json.dumps({"candidates": args.candidates, "medians": medians}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
