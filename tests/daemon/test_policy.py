"""The trigger policy in the daemon: ticks, forced cycles, the persisted ROI EMA, nmctl policy.

Cycles are stood in for by a fake `run_cycle` that records in the store what a real
cycle would, so these tests need git but no sandbox.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from daemon.cli import main as nmctl
from daemon.cycles import CycleReport, run_cycle
from daemon.cycles.learn import learn
from daemon.cycles.trigger import TRIGGER, trigger_state
from daemon.registry import load_registry
from daemon.service.scheduler import Service
from daemon.store import open_store
from policies.status import CycleStatus
from policies.trigger import ACT_LARGE, QOptions, QTrigger, features, state_key

from .test_cycle import make_target as make_cycle_target


def make_target(tmp_path: Path, trigger: str = "") -> tuple[Path, Path]:
    targets, state = make_cycle_target(tmp_path, extra='schedule = { every = "15m" }')
    if trigger:
        with (targets / "calc.toml").open("a") as f:
            f.write(f"\n[trigger]\n{trigger}\n")
    return targets, state


class FakeCycles:
    """Replaces the kind-specific part of a cycle: each ends as the next outcome.

    The lock, the record in the store and the learning around it are the real ones.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.outcomes: list[tuple[str, float | None, float | None, float]] = []
        self.calls: list[tuple[bool, float]] = []
        monkeypatch.setattr("daemon.cycles.runner.run_kind", self)

    def __call__(self, context):
        status, base, best, seconds = self.outcomes.pop(0)
        [row] = context.store.cycles(context.spec.name, 1)
        self.calls.append((bool(row["forced"]), context.share))
        return CycleReport(
            context.spec.name, context.number, CycleStatus(status), "fake", base, best, 5, seconds
        )


def service(targets: Path, state: Path) -> Service:
    svc = Service(state, targets, backend=None)
    svc.reload()  # the scheduler is never started: ticks are called by hand
    return svc


def roi_rows(state: Path) -> list[dict]:
    store = open_store(state)
    try:
        return list(reversed(store.roi_series("calc", 100)))
    finally:
        store.close()


def table(state: Path) -> QTrigger:
    store = open_store(state)
    try:
        return QTrigger.from_dict(store.policy_state("calc", TRIGGER))
    finally:
        store.close()


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def commit_change(repo: Path) -> None:
    (repo / "calc" / "extra.py").write_text("X = 1\n")
    git(repo, "add", "calc/extra.py")
    git(
        repo,
        "-c",
        "user.name=Human",
        "-c",
        "user.email=human@localhost",
        "commit",
        "-qm",
        "a human edit",
    )


def test_a_tick_acts_with_the_decided_budget_and_records_roi_and_ema(tmp_path, monkeypatch):
    targets, state = make_target(tmp_path)
    fake = FakeCycles(monkeypatch)
    fake.outcomes = [("accepted", 0.5, 0.75, 120.0)]
    svc = service(targets, state)
    svc.tick("calc")
    assert fake.calls == [(False, 1.0)]  # a new target acts on its first tick, fully
    [point] = roi_rows(state)
    assert (point["cycle"], point["gain"], point["cost"]) == (1, 0.25, 2.0)
    assert point["roi"] == point["ema"] == pytest.approx(0.125)
    store = open_store(state)
    [decision] = store.decisions("calc")
    store.close()
    assert decision["action"] == ACT_LARGE and decision["policy"] == "q-learning"
    assert (decision["cycle"], decision["status"]) == (1, "accepted")
    assert decision["reward"] == pytest.approx(0.125 - QOptions().hurdle)
    assert "no cycle has searched yet" in decision["reason"]
    assert table(state).pending.reward == pytest.approx(decision["reward"])


def test_the_ema_survives_a_restart(tmp_path, monkeypatch):
    targets, state = make_target(tmp_path, 'alpha = 0.5\nepsilon = 0\npolicy = "change-rule"')
    fake = FakeCycles(monkeypatch)
    fake.outcomes = [("accepted", 0.5, 0.75, 60.0), ("rejected", 0.75, 0.75, 60.0)]
    service(targets, state).tick("calc")
    commit_change(state / "bots" / "calc")  # so that the change rule acts again
    service(targets, state).tick("calc")  # a new Service and Store: as after a restart
    first, second = roi_rows(state)
    assert first["ema"] == pytest.approx(0.25)
    assert second["roi"] == 0.0
    assert second["ema"] == pytest.approx(0.25 + 0.5 * (0.0 - 0.25))


def test_the_series_continues_across_reopened_stores(tmp_path):
    targets, state = make_target(tmp_path, "alpha = 0.1")
    spec = load_registry(targets, state).get("calc")
    emas = []
    for number, gain in enumerate([0.2, 0.0, 0.1], start=1):
        store = open_store(state)
        report = {
            "cycle": number,
            "status": "accepted" if gain else "rejected",
            "baseline_score": 0.5,
            "best_score": 0.5 + gain,
            "sandbox_seconds": 60.0,
        }
        emas.append(learn(spec, store, report, forced=False).ema)
        store.close()
    assert emas == pytest.approx([0.2, 0.18, 0.172])


def test_a_forced_cycle_is_logged_and_teaches_the_table_as_act_large(tmp_path, monkeypatch):
    targets, state = make_target(tmp_path)
    fake = FakeCycles(monkeypatch)
    fake.outcomes = [("accepted", 0.5, 0.75, 60.0), ("rejected", 0.75, 0.75, 30.0)]
    svc = service(targets, state)
    svc.tick("calc")
    spec = svc.targets["calc"].spec
    store = open_store(state)
    before = state_key(features(trigger_state(spec, store, 0.0), QOptions().hurdle))
    store.close()
    report = svc.handle({"cmd": "cycle", "name": "calc"}, send=lambda _: None)
    assert report["status"] == "rejected" and fake.calls[-1] == (True, 1.0)
    learned = table(state)
    # The tick's act-large is updated now that the forced cycle's state is known...
    assert learned.updates == 1
    # ...and the forced cycle waits, as act-large in its state, for the next tick's state.
    assert (learned.pending.state, learned.pending.action) == (before, ACT_LARGE)
    assert learned.pending.reward == pytest.approx(0.0 - QOptions().hurdle)
    store = open_store(state)
    forced, _ = store.decisions("calc")
    store.close()
    assert forced["forced"] == 1 and forced["status"] == "rejected" and forced["cycle"] == 2
    assert "forced by request" in forced["reason"]
    svc.tick("calc")  # after a fruitless forced cycle on the same tree
    learned = table(state)
    assert learned.updates == 2
    assert learned.q[before][ACT_LARGE] < 0


def test_a_forced_local_cycle_records_and_teaches_too(tmp_path, monkeypatch):
    targets, state = make_target(tmp_path)
    fake = FakeCycles(monkeypatch)
    fake.outcomes = [("accepted", 0.5, 1.0, 30.0)]
    monkeypatch.setattr("daemon.cli.cycle.open_backend", lambda *a, **k: None)
    args = ["--targets", str(targets), "--state", str(state)]
    assert nmctl.main(["cycle", "calc", "--local", *args]) == 0
    assert fake.calls == [(True, 1.0)]
    [point] = roi_rows(state)
    assert point["roi"] == pytest.approx(0.5 / 0.5)
    pending = table(state).pending
    assert pending.action == ACT_LARGE and pending.reward == pytest.approx(1.0 - 0.001)


def test_an_unchanged_tree_after_a_fruitless_cycle_is_learned_as_not_worth_it(
    tmp_path, monkeypatch
):
    targets, state = make_target(tmp_path, "epsilon = 0")
    fake = FakeCycles(monkeypatch)
    fake.outcomes = [("rejected", 0.5, 0.5, 60.0)] * 3
    svc = service(targets, state)
    for _ in range(4):
        svc.tick("calc")
    # first tick: act-large (nothing known); then, same tree: act-large and act-small are
    # tried once each, found to cost more than they earn, and skip wins.
    assert fake.calls == [(False, 1.0), (False, 1.0), (False, 0.25)]
    store = open_store(state)
    last = store.decisions("calc", 1)[0]
    store.close()
    assert last["action"] == "skip" and "highest value here (skip" in last["reason"]


def test_files_changed_since_the_last_searching_cycle(tmp_path, monkeypatch):
    targets, state = make_target(tmp_path)
    fake = FakeCycles(monkeypatch)
    fake.outcomes = [("rejected", 0.5, 0.5, 60.0), ("waiting", None, None, 0.0)]
    spec = load_registry(targets, state).get("calc")
    store = open_store(state)
    assert trigger_state(spec, store, 0.0).changed_files is None  # the repo is not made yet
    run_cycle(spec, state, None, store)
    assert trigger_state(spec, store, 0.0).changed_files == 0
    commit_change(spec.repo)
    run_cycle(spec, state, None, store)  # a cycle that did not search does not reset the count
    facts = trigger_state(spec, store, 0.0)
    store.close()
    assert facts.changed_files == 1 and facts.recent == ("rejected",)
    assert facts.last_status == "waiting"


def test_an_unreadable_stored_table_is_a_warning_and_a_fresh_start(tmp_path, monkeypatch, caplog):
    targets, state = make_target(tmp_path)
    fake = FakeCycles(monkeypatch)
    fake.outcomes = [("rejected", 0.5, 0.5, 60.0)]
    store = open_store(state)
    store.save_policy_state("calc", TRIGGER, {"v": 99})
    store.close()
    service(targets, state).tick("calc")
    assert "stored trigger policy unreadable" in caplog.text
    assert table(state).decisions == 1


def test_nmctl_policy_explains_state_values_series_and_decisions(tmp_path, monkeypatch, capsys):
    targets, state = make_target(tmp_path)
    fake = FakeCycles(monkeypatch)
    fake.outcomes = [("accepted", 0.5, 0.75, 60.0), ("rejected", 0.75, 0.75, 60.0)]
    svc = service(targets, state)
    svc.tick("calc")
    svc.tick("calc")
    capsys.readouterr()
    args = ["--targets", str(targets), "--state", str(state)]

    assert nmctl.main(["trigger", "calc", *args]) == 0
    text = capsys.readouterr().out
    assert "calc: trigger policy q-learning; hurdle 0.001 score per sandbox minute" in text
    assert re.search(r"State now: roi=above trend=down changed=none accept=most", text)
    assert "Q-values: act-large" in text and "-> greedy:" in text
    assert re.search(r"\n\s+1\s+accepted\s+0\.250\s+1\.0\s+0\.25\s+0\.25\n", text)
    assert re.search(r"\n\s+2\s+rejected\s+0\.000\s+1\.0\s+0\s+0\.225\n", text)
    assert "act-large (1) -> cycle 1 accepted, ROI 0.25, reward +0.249" in text
    assert "why: no cycle has searched yet" in text

    assert nmctl.main(["trigger", "calc", "--json", "--last", "1", *args]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["policy"] == "q-learning" and info["decisions"] == 2
    assert info["state"]["features"]["changed"] == "none"
    assert set(info["state"]["q"]) == {"skip", "act-small", "act-large"}
    assert [p["cycle"] for p in info["roi"]] == [2]
    assert info["roi"][0]["ema"] == pytest.approx(0.225)
    assert len(info["last_decisions"]) == 1 and info["last_decisions"][0]["cycle"] == 2


def test_nmctl_policy_of_an_unknown_target_suggests_one(tmp_path, capsys):
    targets, state = make_target(tmp_path)
    assert nmctl.main(["trigger", "calx", "--targets", str(targets), "--state", str(state)]) == 1
    err = capsys.readouterr().err
    assert "no target named 'calx'" in err and "Did you mean 'calc'?" in err
