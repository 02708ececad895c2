"""Whole cycles of weights targets: real Docker sandbox, real git, real gymnasium (CartPole).

The targets here are tiny (populations of 16, episodes cut at 40 steps) so that a
cycle takes seconds; `test_nmctl_cycle_cartpole_commits_weights_that_solve_it`
runs the shipped `cartpole` target as a user would, with its own budget.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from daemon.cycles import run_cycle
from daemon.cycles.sandboxes import CycleSandboxes
from daemon.cycles.weights import WeightsCycle
from daemon.ledger import Ledger, open_ledger
from daemon.paths import PROJECT_ROOT
from daemon.registry import load_registry
from daemon.service import control
from daemon.service.control import socket_path
from daemon.store import open_store
from policies.neuro import WeightsFile, curve, holdout_seeds, load_weights, save_weights
from policies.neuro.checkpoint import load_checkpoint
from policies.neuro.evolve import CHECKPOINT
from sandbox import reaper
from sandbox.docker_backend import DockerBackend
from sandbox.gym_eval import GymTask, NamedWeights
from sandbox.gym_pool import GymPool
from sandbox.runners import gym_run

from .test_cycle import cycle as calc_cycle
from .test_cycle import fingerprint, git
from .test_nmd import Daemon

EXAMPLE = PROJECT_ROOT / "targets" / "examples" / "cartpole"
TARGET = """\
name = "pole"
kind = "weights"
repo = "{{state}}/bots/pole"
example = "{example}"
env = "CartPole-v1"
network = "policy:Policy"
network_kwargs = {{ hidden = [4] }}
weights = "{weights}"
schedule = {{ cron = "0 3 * * *" }}

[evaluation]
episodes = 3
holdout = 30
validation = 0
max_steps = 40

[budget]
generations = {generations}
seconds = "3m"

[evolution]
population = 16
seed = 1

[sandbox]
timeout = "60s"
parallel = 2
"""


def nmctl(targets: Path, state: Path, *args: str) -> subprocess.CompletedProcess:
    common = ["--targets", str(targets), "--state", str(state)]
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli.main", *args, *common],
        capture_output=True,
        text=True,
        timeout=600,
    )


def make_target(
    tmp_path: Path,
    weights: str = "weights/policy.pt",
    generations: int = 3,
    files: dict[str, bytes] | None = None,
) -> tuple[Path, Path]:
    example = tmp_path / "example"
    example.mkdir(parents=True)
    (example / "policy.py").write_text((EXAMPLE / "policy.py").read_text())
    for name, data in (files or {}).items():
        (example / name).parent.mkdir(parents=True, exist_ok=True)
        (example / name).write_bytes(data)
    targets = tmp_path / "targets"
    targets.mkdir()
    text = TARGET.format(example=example, weights=weights, generations=generations)
    (targets / "pole.toml").write_text(text)
    state = tmp_path / "state"
    state.mkdir()
    return targets, state


def cycle(targets: Path, state: Path, backend):
    return calc_cycle(targets, state, backend, "pole")


def balancer(path: Path) -> bytes:
    """A weights file of a hand-made linear controller that holds the pole for 40 steps."""
    weights = np.zeros((2, 4), dtype=np.float32)
    weights[1] = [0.01, 0.1, 1.0, 0.5]
    tensors = {"layers.0.weight": weights, "layers.0.bias": np.zeros(2, np.float32)}
    save_weights(path, WeightsFile(tensors, {"obs_dim": 4, "act_dim": 2, "hidden": []}))
    return path.read_bytes()


def test_an_improving_cycle_through_nmd_is_one_commit_of_weights_and_metadata(tmp_path):
    targets, state = make_target(tmp_path)
    daemon = Daemon(targets, state)
    try:
        daemon.wait_for(r"msg=\"ready")
        events: list[dict] = []
        report = control.call(socket_path(state), {"cmd": "cycle", "name": "pole"}, events.append)
        assert daemon.stop() == 0
    finally:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
    assert report["status"] == "accepted", report["reason"]
    generations = [e for e in events if e["kind"] == "generation"]
    assert [e["generation"] for e in generations] == [1, 2, 3]
    assert {"best", "mean", "escape_p", "env_steps", "total"} <= set(generations[0])

    repo = state / "bots" / "pole"
    assert git(repo, "rev-list", "--count", "HEAD") == "2"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [
        "weights/policy.json",
        "weights/policy.pt",
    ]
    trailers = git(repo, "log", "-1", "--format=%(trailers:only,unfold)").splitlines()
    keys = [line.split(":")[0].removeprefix("Neuromutant-") for line in trailers]
    assert keys == ["Target", "Cycle", "Method", "Score", "Episodes", "Generations", "Env-Steps"]
    assert f"Neuromutant-Score: {report['baseline_score']:.2f} -> {report['best_score']:.2f}" in (
        trailers
    )
    assert report["best_score"] > report["baseline_score"]

    # The committed files are what a user loads without Neuromutant.
    meta = json.loads((repo / "weights/policy.json").read_text())
    assert meta["policy_kwargs"] == {"hidden": [4], "obs_dim": 4, "act_dim": 2}
    assert meta["target"] == "pole" and meta["env"] == "CartPole-v1"
    policy = gym_run.load_class("policy:Policy", str(repo))(**meta["policy_kwargs"])
    policy.load_state_dict(torch.load(repo / "weights/policy.pt", weights_only=True))

    run = report["evolution"]
    assert run["generations"] == 3 and run["method"] == "dualmixture"
    assert Path(run["curve_csv"]).read_text().count("\n") == 4  # a header, three generations
    assert Path(run["curve_png"]).stat().st_size > 0
    assert (state / "runs" / "pole" / "genome.safetensors").is_file()
    logged = nmctl(targets, state, "log", "pole").stdout
    assert "dualmixture, held-out return" in logged and "over 30 episodes" in logged


def test_a_cycle_that_does_not_improve_leaves_the_repo_byte_identical(docker_backend, tmp_path):
    # Committed weights that already hold the pole for all 40 steps: nothing can beat them.
    # Their metadata's hidden = [] overrides the target's hidden = [4].
    perfect = balancer(tmp_path / "perfect.safetensors")
    targets, state = make_target(
        tmp_path,
        weights="weights/policy.safetensors",
        generations=1,
        files={"weights/policy.safetensors": perfect},
    )
    spec = load_registry(targets, state).get("pole")
    open_ledger(spec)
    before = fingerprint(spec.repo)
    report, _ = cycle(targets, state, docker_backend)
    assert report.status == "rejected", report.reason
    assert report.baseline_score == 40.0
    assert "not better than the committed weights beyond the noise" in report.reason
    assert fingerprint(spec.repo) == before
    assert not (state / "runs" / "pole" / "genome.safetensors").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"not a safetensors file",
            "the committed weights file weights/policy.safetensors "
            "cannot be loaded: not a readable safetensors file",
        ),
        (
            "names",
            "the committed weights file weights/policy.safetensors does not fit policy:Policy",
        ),
    ],
)
def test_weights_that_fail_to_load_are_a_clear_error_and_stay(
    docker_backend, tmp_path, content, message
):
    if content == "names":  # a valid file whose tensors are not the policy's
        path = tmp_path / "other.safetensors"
        save_weights(path, WeightsFile({"fc.weight": np.zeros((2, 4))}, {"hidden": [4]}))
        content = path.read_bytes()
    targets, state = make_target(
        tmp_path,
        weights="weights/policy.safetensors",
        files={"weights/policy.safetensors": content},
    )
    spec = load_registry(targets, state).get("pole")
    open_ledger(spec)
    before = fingerprint(spec.repo)
    report, _ = cycle(targets, state, docker_backend)
    assert report.status == "error"
    assert message in report.reason
    assert "Nothing was changed" in report.reason
    assert fingerprint(spec.repo) == before
    assert (spec.repo / "weights/policy.safetensors").read_bytes() == content


def test_a_verification_failure_is_reverted(docker_backend, tmp_path, monkeypatch):
    # A test double for the verification step ONLY: every other step plays real episodes
    # in the sandbox; the verification plays them too, then reports the committed
    # weights as having scored 0 in each, as weights that overfit their seeds would.
    real_play = WeightsCycle.play

    def play(self, genomes, seeds):
        done = real_play(self, genomes, seeds)
        if not self.sandboxes.current.name.endswith("-verify"):
            return done
        returns = done.returns.copy()
        returns[0] = 0.0
        return dataclasses.replace(done, returns=returns)

    monkeypatch.setattr(WeightsCycle, "play", play)
    targets, state = make_target(tmp_path)
    report, spec = cycle(targets, state, docker_backend)
    assert report.status == "reverted", report.reason
    assert "the committed weights averaged 0.00" in report.reason
    assert git(spec.repo, "rev-list", "--count", "HEAD") == "3"
    assert git(spec.repo, "log", "-1", "--format=%s").startswith('Revert "pole: evolved weights')
    assert not (spec.repo / "weights").exists()  # the first weights were added, now removed
    assert git(spec.repo, "status", "--porcelain") == ""
    [revert, commit] = open_ledger(spec).log("pole")
    assert revert["trailers"]["Reverts"] == commit["sha"] == report.commit and commit["reverted"]
    assert not (state / "runs" / "pole" / "genome.safetensors").exists()


def spy_on_verification(monkeypatch) -> list[bool]:
    """Whether each verification may use the spare sandboxes (its code is theirs)."""
    verifications: list[bool] = []
    real_choice = CycleSandboxes.for_verification

    def for_verification(self, tree, task, same_code):
        verifications.append(same_code)
        pool = real_choice(self, tree, task, same_code)
        assert (pool is self.pools[1]) == same_code  # the spare, started during evolution
        return pool

    monkeypatch.setattr(CycleSandboxes, "for_verification", for_verification)
    return verifications


def test_the_spare_sandboxes_verify_a_commit_of_the_weights_alone(
    docker_backend, tmp_path, monkeypatch
):
    verifications = spy_on_verification(monkeypatch)
    targets, state = make_target(tmp_path)
    report, _ = cycle(targets, state, docker_backend)
    assert report.status == "accepted", report.reason
    assert verifications == [True]


def test_the_spare_sandboxes_verify_only_the_code_they_loaded(
    docker_backend, tmp_path, monkeypatch
):
    # A person commits to the target's repository while the cycle searches: the
    # weights commit lands on top of theirs, so the sandboxes started on the
    # cycle's own export may not verify it; fresh ones start on the commit's.
    real_search = WeightsCycle.search
    verifications = spy_on_verification(monkeypatch)

    def search(self, *args):
        found = real_search(self, *args)
        (self.spec.repo / "NOTES.md").write_text("a person's note\n")
        git(self.spec.repo, "add", "NOTES.md")
        git(self.spec.repo, "commit", "-q", "-m", "notes")
        return found

    monkeypatch.setattr(WeightsCycle, "search", search)
    targets, state = make_target(tmp_path)
    report, spec = cycle(targets, state, docker_backend)
    assert report.status == "accepted", report.reason
    assert verifications == [False]
    assert git(spec.repo, "log", "--format=%s").splitlines()[1] == "notes"
    [verify] = [p for p in state.glob("snapshots/pole/*") if (p / "NOTES.md").exists()]
    assert (verify / "weights").is_dir()  # the new sandboxes ran on the commit's export


KILL_DURING_EVOLUTION = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from daemon.cycles import run_cycle
    from daemon.store import Store, open_store
    from daemon.registry import load_registry
    from sandbox.docker_backend import DockerBackend
    targets, state = Path(sys.argv[1]), Path(sys.argv[2])
    spec = load_registry(targets, state).get("pole")
    run_cycle(spec, state, DockerBackend(state), open_store(state))
    """
)


def timeless(csv_text: str) -> list[list[str]]:
    """The rows of a curve CSV without the wall-clock column."""
    rows = [line.split(",") for line in csv_text.splitlines()]
    wall = rows[0].index("wall_time")
    return [row[:wall] + row[wall + 1 :] for row in rows]


def timeless_rows(history: list[dict], scratch: Path) -> list[list[str]]:
    """A checkpoint's history as `timeless` reads the same rows from the curve CSV."""
    curve.write_csv(scratch, history)
    return timeless(scratch.read_text())[1:]


def test_kill_9_mid_evolution_then_the_next_cycle_resumes_from_the_checkpoint(
    docker_backend, docker_client, tmp_path
):
    generations = 30  # a generation takes milliseconds: enough of them that the kill lands mid-run
    targets, state = make_target(tmp_path / "cut", generations=generations)
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_DURING_EVOLUTION, str(targets), str(state)]
    )
    runs = state / "runs" / "pole"
    deadline = time.monotonic() + 120
    while not list(runs.glob(f"head-*/{CHECKPOINT}")) and time.monotonic() < deadline:
        assert child.poll() is None, "the cycle ended before its first checkpoint"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    [checkpoint] = runs.glob(f"head-*/{CHECKPOINT}")
    done = load_checkpoint(checkpoint)["generation"]
    assert 1 <= done < generations
    history = timeless_rows(load_checkpoint(checkpoint)["history"], tmp_path / "history.csv")

    restarted = DockerBackend(state, client=docker_client)  # a restart reaps the orphans
    report, spec = cycle(targets, state, restarted)
    assert report.status == "accepted", report.reason
    assert report.evolution["resumed_at"] == done
    assert report.evolution["generations"] == generations
    assert report.candidates == 16 * (generations - done)  # only the generations left ran
    assert git(spec.repo, "status", "--porcelain") == ""
    rows = open_store(state).cycles("pole")
    assert [r["status"] for r in rows] == ["accepted", "interrupted"]
    mine = f"{reaper.OWNER_LABEL}"
    orphans = docker_client.containers.list(all=True, filters={"label": mine})
    assert not [c for c in orphans if c.labels[mine].split("/")[1] == str(child.pid)]

    # The resumed run is the run an uninterrupted cycle makes, generation for generation.
    targets, state = make_target(tmp_path / "whole", generations=generations)
    whole, _ = cycle(targets, state, docker_backend)
    assert whole.evolution["resumed_at"] == 0
    resumed = timeless(Path(report.evolution["curve_csv"]).read_text())
    assert resumed[1 : done + 1] == history  # what was done before the kill is kept
    assert resumed == timeless(Path(whole.evolution["curve_csv"]).read_text())


def test_nmctl_cycle_cartpole_commits_weights_that_solve_it(docker_backend, tmp_path):
    """The issue's acceptance check, on the shipped target and its own budget, from scratch."""
    state = tmp_path / "state"
    done = nmctl(PROJECT_ROOT / "targets", state, "cycle", "cartpole", "--local", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "accepted", report["reason"]
    repo = state / "bots" / "cartpole"
    committed = load_weights(repo / "weights/policy.safetensors")
    # 100 episodes on seeds no cycle uses: training seeds lie below 2**30, each cycle's
    # held-out seeds in its own block of 100,000 above it; these start 2**29 beyond.
    seeds = holdout_seeds(100, start=2**29)
    task = GymTask("CartPole-v1", "policy:Policy", committed.policy_kwargs)
    tree = Ledger(repo).snapshot(tmp_path / "committed")  # the sandbox reads exports, not repos
    with GymPool(docker_backend, tree, task, port_root=tmp_path / "ports") as pool:
        played = pool([NamedWeights(committed.tensors, committed.policy_kwargs)], seeds)
    assert played.errors == {}
    assert played.returns.shape == (1, 100)
    assert played.returns.mean() >= 475, played.returns


def test_a_stop_ends_the_cycle_before_evolution_and_commits_nothing(docker_backend, tmp_path):
    targets, state = make_target(tmp_path)
    spec = load_registry(targets, state).get("pole")
    open_ledger(spec)
    before = fingerprint(spec.repo)
    stop = threading.Event()
    stop.set()  # as nmd does when it is told to stop
    store = open_store(state)
    report = run_cycle(spec, state, docker_backend, store, stop=stop)
    assert report.status == "stopped", report.reason
    assert "nothing committed" in report.reason and report.candidates == 0
    assert fingerprint(spec.repo) == before
    [run_dir] = (state / "runs" / "pole").glob("head-*")
    assert not (run_dir / CHECKPOINT).exists()  # no generation was finished
