"""The trigger policies: features, the Q update, persistence, and learning in a simulation."""

from __future__ import annotations

import random
import re
from dataclasses import replace

import pytest

from policies.roi import roi_point
from policies.trigger import (
    ACT_LARGE,
    ACT_SMALL,
    SKIP,
    ChangeRule,
    Decision,
    QOptions,
    QTrigger,
    TriggerState,
    features,
)

TICK = 900.0  # a 15-minute schedule


class Sim:
    """A target whose code changes now and then; a cycle pays only on a changed tree.

    The facts it hands the policy are the ones the daemon gathers from git and the
    store; each cycle's ROI goes through `policies.roi` as a real report's would.
    """

    def __init__(self, seed: int, p_change: float = 0.3) -> None:
        self.rng = random.Random(seed)
        self.p_change = p_change
        self.now = 0.0
        self.changed: int | None = None  # files changed since the last cycle; None: no cycle
        self.statuses: list[str] = []
        self.ema: float | None = None
        self.previous_ema: float | None = None
        self.last_end: float | None = None
        self.number = 0
        self.spent = 0.0
        self.gained = 0.0

    def state(self) -> TriggerState:
        return TriggerState(
            "tree",
            None if self.changed is None else "last",
            self.statuses[0] if self.statuses else None,
            changed_files=self.changed,
            recent=tuple(self.statuses[:5]),
            ema=self.ema,
            previous_ema=self.previous_ema,
            since=None if self.last_end is None else self.now - self.last_end,
        )

    def cycle(self, budget: float) -> float:
        """Run a cycle with this share of the budget; its ROI."""
        self.number += 1
        pays = self.changed is None or self.changed > 0
        found = pays and self.rng.random() < (0.95 if budget >= 1 else 0.6)
        seconds = 240.0 * budget * self.rng.uniform(0.8, 1.2)
        report = {
            "cycle": self.number,
            "status": "accepted" if found else "rejected",
            "baseline_score": 0.5,
            "best_score": 0.55 if found else 0.5,
            "sandbox_seconds": seconds,
        }
        point = roi_point(report, self.ema, 0.1)
        self.previous_ema, self.ema = self.ema, point.ema
        self.statuses.insert(0, point.status)
        self.last_end, self.changed = self.now, 0
        self.spent += point.cost
        self.gained += point.gain
        return point.roi

    def advance(self) -> None:
        self.now += TICK
        if self.rng.random() < self.p_change:
            self.changed = (self.changed or 0) + self.rng.randint(1, 5)


class AlwaysAct:
    name = "always"

    def decide(self, state: TriggerState) -> Decision:
        return Decision(True, 1.0, "always")


def play(policy, sim: Sim, ticks: int) -> dict[bool, list[bool]]:
    """Tick `ticks` times; whether the policy acted, by whether the target had changed."""
    acted: dict[bool, list[bool]] = {True: [], False: []}
    for _ in range(ticks):
        state = sim.state()
        decision = policy.decide(state)
        acted[state.changed_files != 0].append(decision.act)
        if decision.act:
            roi = sim.cycle(decision.share)
            if isinstance(policy, QTrigger):
                policy.record(roi)
        sim.advance()
    return acted


def acts_on_change_only(acted: dict[bool, list[bool]]) -> bool:
    """Acts on at least 90% of changed ticks and at most 10% of unchanged ones."""
    on_change = sum(acted[True]) / len(acted[True])
    on_nothing = sum(acted[False]) / len(acted[False])
    return on_change >= 0.9 and on_nothing <= 0.1


def trained(seed: int = 0, ticks: int = 1500) -> tuple[QTrigger, Sim]:
    policy, sim = QTrigger(QOptions(hurdle=0.002, seed=seed)), Sim(seed)
    play(policy, sim, ticks)
    return policy, sim


def test_the_policy_learns_to_act_only_when_the_target_changed():
    policy, sim = trained()
    greedy = QTrigger.from_dict(policy.to_dict(), replace(policy.options, epsilon=0, epsilon_min=0))
    acted = play(greedy, sim, 1000)
    assert len(acted[True]) > 200 and len(acted[False]) > 200
    assert acts_on_change_only(acted), (
        sum(acted[True]) / len(acted[True]),
        sum(acted[False]) / len(acted[False]),
    )
    # The check has teeth: acting at every tick does not pass it.
    assert not acts_on_change_only(play(AlwaysAct(), Sim(1), 1000))


def test_learning_spends_less_sandbox_time_for_the_same_gains():
    learner, always = Sim(2), Sim(2)
    play(QTrigger(QOptions(hurdle=0.002, seed=2)), learner, 2000)
    play(AlwaysAct(), always, 2000)
    assert learner.spent < 0.6 * always.spent
    assert learner.gained >= 0.8 * always.gained


def test_training_is_deterministic_for_a_seed():
    first, _ = trained(seed=3, ticks=400)
    again, _ = trained(seed=3, ticks=400)
    assert first.to_dict() == again.to_dict()


def test_a_policy_reloaded_at_every_tick_decides_as_one_kept_in_memory():
    kept, sim = QTrigger(QOptions(seed=4)), Sim(4)
    reloaded, twin = QTrigger(QOptions(seed=4)), Sim(4)
    for _ in range(300):
        decision = kept.decide(sim.state())
        reloaded = QTrigger.from_dict(reloaded.to_dict(), QOptions(seed=4))
        assert reloaded.decide(twin.state()) == decision
        if decision.act:
            kept.record(sim.cycle(decision.share))
            reloaded.record(twin.cycle(decision.share))
        sim.advance()
        twin.advance()
    assert kept.to_dict() == reloaded.to_dict()


def test_a_new_target_acts_with_the_full_budget_on_its_first_tick():
    for seed in range(20):  # never an exploratory skip before any cycle
        policy = QTrigger(QOptions(epsilon=1.0, seed=seed))
        decision = policy.decide(TriggerState("t", None, None))
        assert (decision.act, decision.share, decision.explored) == (True, 1.0, False)
        assert "no cycle has searched yet" in decision.reason


def test_ties_favour_acting_and_the_reason_says_so():
    policy = QTrigger(QOptions(epsilon=0))
    state = TriggerState("t", "t", "rejected", changed_files=0, recent=("rejected",), ema=0.0)
    decision = policy.decide(state)
    assert decision.action == ACT_LARGE
    assert "a tie goes to acting" in decision.reason


def test_the_update_waits_for_the_next_state_and_uses_the_rule():
    o = QOptions(hurdle=0.01, gamma=0.5, epsilon=0, learning_rate=0.1)
    policy = QTrigger(o)
    s1 = TriggerState("t", "t", "rejected", changed_files=0, recent=("rejected",), ema=0.0)
    s2 = replace(s1, changed_files=2)
    key1, key2 = (",".join(f"{k}={v}" for k, v in features(s, o.hurdle).items()) for s in (s1, s2))
    policy.q[key2] = {ACT_SMALL: 0.2}
    policy.begin(s1, ACT_LARGE)
    policy.record(0.05)
    assert policy.q.get(key1) is None  # not before the next state is known
    policy.observe(s2)
    # First update of this pair: step 1/1, so Q = r + gamma * max Q(s') = 0.04 + 0.5 * 0.2.
    assert policy.q[key1][ACT_LARGE] == pytest.approx(0.14)
    policy.begin(s1, ACT_LARGE)
    policy.record(0.0)
    policy.observe(s2)
    # Second: step 1/2 toward -0.01 + 0.1.
    assert policy.q[key1][ACT_LARGE] == pytest.approx(0.14 + 0.5 * (0.09 - 0.14))
    assert policy.visits[key1][ACT_LARGE] == 2 and policy.updates == 2


def test_a_skip_earns_nothing_and_a_cycle_that_did_not_search_teaches_nothing():
    policy = QTrigger(QOptions(epsilon=0))
    state = TriggerState("t", "t", "rejected", changed_files=0, recent=("rejected",), ema=0.0)
    policy.begin(state, SKIP)
    policy.record(0.5)  # ignored: a skip's reward is 0
    policy.observe(state)
    assert list(policy.q.values()) == [{SKIP: 0.0}]
    policy.begin(state, ACT_SMALL)
    policy.record(None)  # e.g. the cycle waited for a human's edits
    policy.observe(state)
    assert policy.updates == 1


def test_exploration_decays_to_its_floor():
    policy = QTrigger(QOptions(epsilon=0.5, decay=0.9, epsilon_min=0.02))
    assert policy.epsilon() == 0.5
    policy.decisions = 10
    assert policy.epsilon() == pytest.approx(0.5 * 0.9**10)
    policy.decisions = 1000
    assert policy.epsilon() == 0.02


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            TriggerState("t", None, None),
            "roi=new,trend=flat,changed=first,accept=none,failures=0,since=never",
        ),
        (
            TriggerState(
                "t",
                "u",
                "error",
                changed_files=4,
                recent=("error", "reverted", "accepted", "rejected"),
                ema=0.002,
                previous_ema=0.003,
                since=7200,
            ),
            "roi=above,trend=down,changed=many,accept=some,failures=2+,since=<1d",
        ),
        (
            TriggerState(
                "t",
                "t",
                "accepted",
                changed_files=1,
                recent=("accepted", "error", "accepted"),
                ema=0.0005,
                previous_ema=0.0001,
                since=90000,
            ),
            "roi=below,trend=up,changed=few,accept=most,failures=0,since=1d+",
        ),
    ],
)
def test_features_discretise_the_facts(state, expected):
    feats = features(state, hurdle=0.001)
    assert ",".join(f"{k}={v}" for k, v in feats.items()) == expected


def test_a_stored_state_of_another_version_is_refused():
    with pytest.raises(ValueError, match="trigger state version 99"):
        QTrigger.from_dict({"v": 99})
    with pytest.raises(ValueError, match="malformed trigger state"):
        QTrigger.from_dict({"v": 1, "q": []})


def test_options_out_of_range_are_refused():
    with pytest.raises(ValueError, match=re.escape("QOptions.gamma is out of range: 1.0")):
        QOptions(gamma=1.0)


def test_the_change_rule_still_skips_an_unchanged_fruitless_tree():
    rule = ChangeRule()
    assert rule.decide(TriggerState("a", None, None)).action == ACT_LARGE
    assert rule.decide(TriggerState("a", "a", "rejected")).action == SKIP
    assert rule.decide(TriggerState("b", "a", "rejected")).act
