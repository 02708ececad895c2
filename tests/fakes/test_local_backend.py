"""The local fake backend: runs the real runners, agrees with bwrap, never touches the host /tmp.

The fast tests here need neither Docker nor bubblewrap; the comparison with the
bwrap backend is a real-backend test (marked ``bwrap`` by the conftest).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from sandbox.evaluate import Candidate, batch_job, run_batch, run_tests
from sandbox.gym_eval import GymTask
from sandbox.gym_pool import GymPool
from sandbox.job import Job, Limits, Outcome

from ..conftest import CALC, FIXED_OPS
from .local_backend import LocalBackend, UnconfinedJob, relocate

SANDBOX_PREFIXES = ("/sandbox", "/tmp", "/dev/shm")
HANG = FIXED_OPS.replace("return a * b", "while True: pass")
CANDIDATES = [
    Candidate("orig"),
    Candidate("fixed", {"calc/ops.py": FIXED_OPS}),
    Candidate("broken", {"calc/ops.py": "def add(:\n"}),
    Candidate("exits", {"calc/ops.py": "import os\nos._exit(0)\n"}),
    Candidate("fake-summary", {"calc/ops.py": FIXED_OPS.replace("a * b", "print('2 passed')")}),
]


@pytest.fixture
def tree(make_tree) -> Path:
    return make_tree(CALC)


@pytest.fixture
def base(tmp_path) -> Path:
    return tmp_path / "jobs"


@pytest.fixture
def local(base) -> LocalBackend:
    return LocalBackend(base)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _outcomes(runs) -> list[tuple[bool, int, dict[str, str], float]]:
    return [(r.valid, r.collected, dict(r.tests), r.score) for r in runs]


def test_every_sandbox_path_of_a_batch_document_moves_under_the_root(local, tree, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    document = local.prepare(batch_job(tree, CANDIDATES, ["tests"]), root)
    inside = str(root) + "/"
    sandbox_paths = [s for s in _strings(document) if s != sys.executable]  # a host path
    leftovers = [s for s in sandbox_paths if s.startswith(SANDBOX_PREFIXES)]
    assert [s for s in leftovers if not s.startswith(inside)] == []
    payload = document["payload"]
    assert payload["wipe"] == [str(root / "tmp"), str(root / "dev/shm")]
    assert payload["scratch"] == document["cwd"] == str(root / "work")
    assert document["command"][-1] == str(root / "job/job.json")
    assert document["result_path"] == str(root / "tmp/nm-result.json")
    assert document["env"]["TMPDIR"] == str(root / "tmp")
    assert (root / "src/tests/test_ops.py").read_text() == CALC["tests/test_ops.py"]
    assert (root / "lib/nmrunners/batch.py").is_file()


def test_only_whole_paths_are_relocated_never_keys_or_source():
    root = Path("/r")
    doc = {"/tmp": ["/tmp", "/tmpfoo", "/sandbox/src/x", "x = '/tmp'"], "n": 1}
    assert relocate(doc, root) == {"/tmp": ["/r/tmp", "/tmpfoo", "/r/src/x", "x = '/tmp'"], "n": 1}


@pytest.mark.parametrize("wiped", ["/var/tmp", "/sandbox/src", "/sandbox", "/tmp/../.."])
def test_a_wipe_outside_the_root_is_refused_before_anything_runs(local, tree, base, wiped):
    job = Job(tree=tree, command=["{python}", "-c", "pass"], payload={"wipe": [wiped]})
    with pytest.raises(UnconfinedJob, match="is not inside the job's root"):
        local.run(job)
    assert list(base.iterdir()) == []  # the root was removed all the same


def test_a_batch_wipes_its_own_tmp_and_never_the_hosts(local, make_tree, base):
    """A candidate writes into every job root's tmp; the next one finds it wiped, the host's
    /tmp and /dev/shm keep their sentinels."""
    leaks = f"{base}/nm-local-job-*/tmp/leak"
    tree = make_tree(
        {
            "world.py": "STATE = 'pristine'\n",
            "tests/test_world.py": (
                "import glob\n\nimport world\n\n\n"
                "def test_world_is_clean():\n"
                "    assert world.STATE == 'pristine'\n"
                f"    assert glob.glob({leaks!r}) == []\n"
            ),
        }
    )
    leaker = (
        f"import glob\nfor path in glob.glob({os.path.dirname(leaks)!r}):\n"
        "    open(path + '/leak', 'w').write('x')\n"
        "STATE = 'leaked'\n"
    )
    with contextlib.ExitStack() as stack:
        sentinels = [
            stack.enter_context(tempfile.NamedTemporaryFile(dir=host, prefix="nm-sentinel-"))
            for host in ("/tmp", "/dev/shm")
            if os.path.isdir(host)
        ]
        candidates = [Candidate("a"), Candidate("leaker", {"world.py": leaker}), Candidate("b")]
        runs = run_batch(local, tree, candidates, ["tests"], min_collected=1)
        assert [r.score for r in runs] == [1.0, 0.0, 1.0]
        assert all(os.path.exists(s.name) for s in sentinels)
    assert list(base.iterdir()) == []


def test_a_hanging_candidate_is_a_timeout(local, tree):
    hang = {"calc/ops.py": HANG}
    run = run_tests(local, tree, ["tests"], overlays=hang, limits=Limits(timeout=1.0))
    assert run.result.outcome is Outcome.TIMEOUT
    assert "timeout" in run.result.limits_hit
    assert not run.valid and run.score == 0.0


def test_a_hanging_candidate_of_a_batch_is_a_timeout_alone(local, tree):
    candidates = [
        Candidate("hang", {"calc/ops.py": HANG}),
        Candidate("fixed", CANDIDATES[1].overlays),
    ]
    runs = run_batch(local, tree, candidates, ["tests"], limits=Limits(timeout=1.0))
    assert [r.result.outcome for r in runs] == [Outcome.TIMEOUT, Outcome.OK]
    assert runs[1].score == 1.0


def _wait_dead(pid: int) -> bool:
    """Wait (on a pidfd, not a sleep) until `pid` has exited; False if it still runs after 10 s."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], 10.0)[0])
    finally:
        os.close(fd)


def test_a_stuck_launcher_is_killed_with_every_process_below_it(base, tree, tmp_path):
    """Past timeout + grace the backend kills the launcher and the candidate's own session."""
    pids = tmp_path / "pids"
    code = (
        "import os, subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
        " start_new_session=True)\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{p.pid}}')\n"
        "time.sleep(600)\n"
    )
    # A negative grace makes the backend's deadline (1 s) come before the launcher's (60 s).
    backend = LocalBackend(base, grace=-59.0)
    result = backend.run(
        Job(tree=tree, command=["{python}", "-c", code], limits=Limits(timeout=60))
    )
    assert result.outcome is Outcome.TIMEOUT
    assert "deadline" in result.detail
    assert all(_wait_dead(int(pid)) for pid in pids.read_text().split())
    assert list(base.iterdir()) == []


def test_a_tree_the_sandbox_user_cannot_read_is_an_error_as_in_the_real_backends(local, tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    result = local.run(Job(tree=private, command=["true"]))
    assert result.outcome is Outcome.ERROR
    assert "not readable by the sandbox user" in result.detail


def test_a_plain_job_runs_in_its_work_dir_beside_the_tree(local, tree):
    code = "import os; print(os.path.basename(os.getcwd()), sorted(os.listdir('../src')))"
    result = local.run(Job(tree=tree, command=["{python}", "-c", code]))
    assert result.outcome is Outcome.OK, result.detail
    assert result.stdout.text == "work ['calc', 'tests']\n"


def test_tests_and_batches_agree_with_bwrap(local, bwrap_backend, tree):
    """The fake is only useful if the runners judge candidates through it as in a sandbox."""
    per_backend = []
    for backend in (local, bwrap_backend):
        alone = [
            run_tests(backend, tree, ["tests"], overlays=c.overlays, coverage=["calc/ops.py"])
            for c in CANDIDATES[:2]
        ]
        batch = run_batch(backend, tree, CANDIDATES, ["tests"], min_collected=2)
        per_backend.append((_outcomes(alone), [r.coverage for r in alone], _outcomes(batch)))
    fake, real = per_backend
    assert fake == real
    assert [score for *_, score in fake[2]] == [0.5, 1.0, 0.0, 0.0, 0.5]


CARTPOLE = Path(__file__).parents[2] / "targets" / "examples" / "cartpole"
TASK = GymTask("CartPole-v1", "policy:Policy", {"obs_dim": 4, "act_dim": 2, "hidden": []})


class Flat:
    def __init__(self, policy: np.ndarray) -> None:
        self.policy = policy.astype(np.float32)
        self.policy_kwargs: dict[str, object] = {}


@pytest.mark.slow  # imports torch and gymnasium in each job: seconds
def test_gym_jobs_run_through_it(local, tmp_path):
    tree = tmp_path / "cartpole"
    tree.mkdir(mode=0o755)
    shutil.copy(CARTPOLE / "policy.py", tree / "policy.py")
    balancer = np.array([0, 0, 0, 0, 0.01, 0.1, 1.0, 0.5, 0, 0])
    with GymPool(local, tree, TASK, port_root=tmp_path / "ports", workers=2) as pool:
        assert pool.describe()["size"] == 4 * 2 + 2
        run = pool([Flat(balancer), Flat(-balancer)], [11])
    assert run.errors == {}
    assert run.returns[0].tolist() == [500.0]
    assert run.returns[1][0] < 500.0
