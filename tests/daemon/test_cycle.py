"""Whole cycles on real git repositories with the real Docker sandbox."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from daemon.cycles import run_cycle
from daemon.ledger import open_ledger
from daemon.registry import load_registry
from daemon.store import open_store
from policies.codemods import catalogue, enumerate_mutations
from sandbox import reaper
from sandbox.docker_backend import DockerBackend

OPS = """\
def add(a, b):
    \"\"\"The sum of a and b.\"\"\"
    return a - b


def scale(values, factor):
    return [v * factor for v in values]
"""
TESTS = """\
from calc.ops import add, scale


def test_add():
    assert add(2, 3) == 5


def test_add_zero():
    assert add(0, 4) == 4


def test_scale():
    assert scale([1, 2], 3) == [3, 6]
"""
TARGET = """\
name = "calc"
repo = "{{state}}/bots/calc"
example = "{example}"
files = ["calc/*.py"]
tests = ["tests/test_ops.py"]
{extra}
[budget]
candidates = 60
seconds = 120

[sandbox]
timeout = "20s"
batch = 30
"""


def make_target(
    tmp_path: Path,
    ops: str = OPS,
    tests: str = TESTS,
    extra: str = "",
    more_tests: dict[str, str] | None = None,
) -> tuple[Path, Path]:
    example = tmp_path / "example"
    (example / "calc").mkdir(parents=True)
    (example / "tests").mkdir()
    (example / "calc" / "__init__.py").write_text("")
    (example / "calc" / "ops.py").write_text(ops)
    (example / "tests" / "test_ops.py").write_text(tests)
    for name, text in (more_tests or {}).items():
        (example / "tests" / name).write_text(text)
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "calc.toml").write_text(TARGET.format(example=example, extra=extra))
    state = tmp_path / "state"
    state.mkdir()
    return targets, state


def cycle(targets: Path, state: Path, backend, name: str = "calc"):
    spec = load_registry(targets, state).get(name)
    store = open_store(state)
    try:
        return run_cycle(spec, state, backend, store), spec
    finally:
        store.close()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def fingerprint(repo: Path) -> str:
    """Every byte of the work tree plus every ref: what 'byte-identical' means here."""
    digest = hashlib.sha256(git(repo, "show-ref", "--head").encode())
    for path in sorted(p for p in repo.rglob("*") if ".git" not in p.parts and p.is_file()):
        digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def test_an_accepted_mutation_is_exactly_one_readable_commit(docker_backend, tmp_path):
    targets, state = make_target(tmp_path)
    report, spec = cycle(targets, state, docker_backend)
    assert report.status == "accepted", report.reason
    assert git(spec.repo, "rev-list", "--count", "HEAD") == "2"
    assert git(spec.repo, "status", "--porcelain") == ""
    assert "return a + b" in (spec.repo / "calc/ops.py").read_text()
    subject = git(spec.repo, "log", "-1", "--format=%s")
    assert subject.startswith("calc: ") and subject.endswith("(tests 1/3 -> 3/3)")
    logged = subprocess.run(
        [
            sys.executable,
            "-m",
            "daemon.cli.main",
            "log",
            "calc",
            "--json",
            "--targets",
            str(targets),
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    [entry] = json.loads(logged.stdout)
    assert entry["trailers"]["Score"] == "0.333 -> 1.000"
    assert entry["trailers"]["Cycle"] == "1" and not entry["reverted"]
    [row] = open_store(state).cycles("calc")
    assert row["status"] == "accepted" and row["commit_sha"] == entry["sha"]


def test_a_rejected_cycle_leaves_the_repo_byte_identical(docker_backend, tmp_path):
    impossible = TESTS + "\n\ndef test_impossible():\n    assert add(1, 1) == 'two'\n"
    targets, state = make_target(tmp_path, ops=OPS.replace("a - b", "a + b"), tests=impossible)
    cycle(targets, state, docker_backend)  # makes the repo, then rejects
    spec = load_registry(targets, state).get("calc")
    before = fingerprint(spec.repo)
    report, _ = cycle(targets, state, docker_backend)
    assert report.status == "rejected", report.reason
    assert fingerprint(spec.repo) == before


def test_a_verification_failure_is_reverted(docker_backend, tmp_path):
    # The held-out test pins the defect, so the repair passes the search tests
    # but fails verification: the commit must be reverted, history kept.
    held_out = "from calc.ops import add\n\n\ndef test_pinned():\n    assert add(5, 3) == 2\n"
    targets, state = make_target(
        tmp_path, extra='held_out = ["tests/test_held.py"]', more_tests={"test_held.py": held_out}
    )
    report, spec = cycle(targets, state, docker_backend)
    assert report.status == "reverted", report.reason
    assert "tests/test_held.py::test_pinned" in report.reason
    assert git(spec.repo, "rev-list", "--count", "HEAD") == "3"
    assert git(spec.repo, "log", "-1", "--format=%s").startswith('Revert "calc: ')
    assert "return a - b" in (spec.repo / "calc/ops.py").read_text()
    assert git(spec.repo, "status", "--porcelain") == ""


def test_a_dirty_target_file_is_never_touched(docker_backend, tmp_path):
    targets, state = make_target(tmp_path)
    spec = load_registry(targets, state).get("calc")
    open_ledger(spec)
    edited = OPS + "# a human is editing this\n"
    (spec.repo / "calc/ops.py").write_text(edited)
    report, _ = cycle(targets, state, docker_backend)
    assert report.status == "waiting"
    assert "uncommitted changes in calc/ops.py" in report.reason
    assert (spec.repo / "calc/ops.py").read_text() == edited
    assert git(spec.repo, "rev-list", "--count", "HEAD") == "1"


def test_tests_that_do_not_exercise_the_files_stop_the_cycle(docker_backend, tmp_path):
    unrelated = "def test_a():\n    assert 1 + 1 == 2\n\n\ndef test_b():\n    assert False\n"
    targets, state = make_target(tmp_path, tests=unrelated)
    report, _ = cycle(targets, state, docker_backend)
    assert report.status == "error"
    assert "the tests do not exercise calc/__init__.py, calc/ops.py" in report.reason


KILL_DURING_EVALUATION = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from daemon.cycles import run_cycle
    from daemon.store import Store, open_store
    from daemon.registry import load_registry
    from sandbox.docker_backend import DockerBackend
    targets, state = Path(sys.argv[1]), Path(sys.argv[2])
    spec = load_registry(targets, state).get("calc")
    run_cycle(spec, state, DockerBackend(state), open_store(state))
    """
)


def test_kill_9_during_evaluation_then_a_new_cycle_starts_clean(
    docker_backend, docker_client, tmp_path
):
    slow = OPS.replace(
        '"""The sum of a and b."""',
        '"""The sum of a and b."""\n    import time\n    time.sleep(0.02)',
    )
    targets, state = make_target(tmp_path, ops=slow)
    events = docker_client.events(
        decode=True, filters={"event": "start", "label": reaper.PRODUCT_LABEL}
    )
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_DURING_EVALUATION, str(targets), str(state)]
    )
    try:
        for event in events:  # baseline, probe, then the first batch
            name = event["Actor"]["Attributes"].get(reaper.JOB_LABEL, "")
            owner = event["Actor"]["Attributes"].get(reaper.OWNER_LABEL, "")
            if name.startswith("calc-cycle") and owner.split("/")[1] == str(child.pid):
                break
    finally:
        events.close()
    child.send_signal(signal.SIGKILL)
    child.wait()

    restarted = DockerBackend(state, client=docker_client)  # a restart reaps the orphans
    report, spec = cycle(targets, state, restarted)
    assert report.status == "accepted", report.reason
    assert git(spec.repo, "status", "--porcelain") == ""
    rows = open_store(state).cycles("calc")
    assert [r["status"] for r in rows] == ["accepted", "interrupted"]
    orphans = docker_client.containers.list(all=True, filters={"label": f"{reaper.OWNER_LABEL}"})
    assert not [c for c in orphans if c.labels[reaper.OWNER_LABEL].split("/")[1] == str(child.pid)]


def nmctl(targets: Path, state: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "daemon.cli.main",
            *args,
            "--targets",
            str(targets),
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_history_and_rollback_from_the_command_line(docker_backend, tmp_path):
    targets, state = make_target(tmp_path)
    report, spec = cycle(targets, state, docker_backend)
    assert report.status == "accepted", report.reason

    history = json.loads(nmctl(targets, state, "history", "calc", "--json").stdout)
    assert [(c["number"], c["status"], c["commit_sha"]) for c in history] == [
        (1, "accepted", report.commit)
    ]

    done = nmctl(targets, state, "rollback", "calc", "--json")
    assert done.returncode == 0, done.stderr
    [revert] = json.loads(done.stdout)
    assert revert["reverted"] == report.commit
    assert "return a - b" in (spec.repo / "calc/ops.py").read_text()
    assert git(spec.repo, "status", "--porcelain") == ""
    logged = json.loads(nmctl(targets, state, "log", "calc", "--json").stdout)
    assert [(e["sha"], e["reverted"]) for e in logged] == [
        (revert["revert"], False),
        (report.commit, True),
    ]
    again = nmctl(targets, state, "rollback", "calc")
    assert again.returncode == 1
    assert "nothing to roll back" in again.stderr


LATE_DEFECT = """\
def double(x):
    return x * 2


def clamp(x, low, high):
    if x < low:
        return low
    if x > high:
        return high
    return x


def adult(age):
    return age > 18
"""
LATE_TESTS = """\
from calc.ops import adult, clamp, double


def test_double():
    assert double(4) == 8


def test_clamp_low():
    assert clamp(-1, 0, 5) == 0


def test_clamp_high():
    assert clamp(9, 0, 5) == 5


def test_clamp_inside():
    assert clamp(3, 0, 5) == 3


def test_adult_at_18():
    assert adult(18)


def test_adult():
    assert adult(30) and not adult(5)
"""


def test_a_small_budget_share_suffices_for_the_learned_order_not_for_plain(
    docker_backend, tmp_path
):
    mutations = enumerate_mutations(LATE_DEFECT, "calc/ops.py")
    fix = next(m for m in mutations if m.line == 14 and m.summary.startswith("use >= instead of >"))
    fine_on_14 = [m for m in mutations if m.line == 14 and not catalogue()[m.operator].coarse]
    assert mutations.index(fix) >= 18 and len(fine_on_14) <= 18  # plain needs more than 18
    results = {}
    for order in ("plain", "learned"):
        targets, state = make_target(
            tmp_path / order, LATE_DEFECT, LATE_TESTS, extra=f'[search]\norder = "{order}"\n'
        )
        spec = load_registry(targets, state).get("calc")
        store = open_store(state)
        results[order] = run_cycle(spec, state, docker_backend, store, share=0.3), store
    plain, _ = results["plain"]
    assert plain.status == "rejected" and plain.candidates == 18, plain  # 30% of 60
    learned, store = results["learned"]
    assert learned.status == "accepted", learned.reason
    # the suspicious line's fine edits come first: a repair is among them
    assert learned.candidates <= 18 and learned.mutation["line"] == 14
    arms = store.policy_state("calc", "operators")["arms"]
    assert sum(tried for tried, _ in arms.values()) == learned.candidates
    assert arms[learned.mutation["operator"]][1] >= 1  # the repairing operator is credited


def test_patience_ends_the_search_soon_after_the_first_improvement(docker_backend, tmp_path):
    two_defects = OPS.replace("v * factor", "v + factor")
    targets, state = make_target(tmp_path, ops=two_defects, extra="[search]\npatience = 0\n")
    toml = targets / "calc.toml"  # one candidate a sandbox: a budget of 20 keeps it short
    toml.write_text(toml.read_text().replace("candidates = 60", "candidates = 20"))
    spec = load_registry(targets, state).get("calc")
    sandbox = spec.config.sandbox.model_copy(update={"batch": 1})
    spec = dataclasses.replace(spec, config=spec.config.model_copy(update={"sandbox": sandbox}))
    store = open_store(state)
    report = run_cycle(spec, state, docker_backend, store)
    rows = store.candidates(store.cycles("calc", 1)[0]["id"])
    assert len(rows) == report.candidates <= 20
    singles = [r for r in rows if "after" not in r["mutation"]]
    improving = [r for r in singles if r["valid"] and r["score"] > report.baseline_score]
    refused = [r for r in improving if r["reason"]]
    committable = [r for r in improving if not r["reason"]]
    assert refused and refused[0]["id"] < committable[0]["id"]  # a refused one does not stop it
    assert singles[-1] == committable[0]  # single edits end at the first committable improvement
    stepped = rows[len(singles) :]  # then its stepping-stone search, if it is one
    assert all(r["mutation"]["after"] in [i["mutation"] for i in improving] for r in stepped)
