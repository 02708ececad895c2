"""When a scheduled tick acts: the simple change rule, and a Q-learning policy.

`ChangeRule` is the baseline the learned policy is measured against: act when
something changed since the last cycle (the target's files, or the last cycle
committed a change that may enable the next), or when there was none;
otherwise skip, since the same tree would give the same result.

`QTrigger` learns the same judgement, and how much budget to give, from what
cycles actually earned. Its state is a handful of coarse features (see
`features`); its actions are skip, act-small and act-large; its reward is the
ROI a cycle earned (score per sandbox minute, `policies.roi`) minus a hurdle,
the ROI below which sandbox time is not worth spending, and 0 for a skip. The
update of a decision completes at the next one, when the state it led to is
known. See docs/policy.md.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from policies.status import FAILED, CycleStatus

SKIP, ACT_SMALL, ACT_LARGE = "skip", "act-small", "act-large"
ACTIONS = (ACT_LARGE, ACT_SMALL, SKIP)
"""Every action, in the order ties are broken: acting first, the larger budget first."""
SHARES = {ACT_LARGE: 1.0, ACT_SMALL: 0.25, SKIP: 0.0}
"""The share of the target's budget (candidates and sandbox seconds) each action spends."""
RECENT = 5
"""How many of the latest searching cycles the acceptance rate is taken over."""
STATE_VERSION = 1


@dataclass(frozen=True)
class TriggerState:
    """What a policy sees at a tick: plain facts, gathered by the daemon."""

    tree: str
    """The target's current tree hash."""
    last_tree: str | None
    """The tree hash the last cycle started from, None before the first."""
    last_status: str | None
    """How the last cycle ended (accepted, rejected, reverted, waiting, error, ...)."""
    changed_files: int | None = None
    """Files of the repository that differ between the last searching cycle's start and
    now (its own commit included); None when no cycle has searched yet."""
    recent: tuple[str, ...] = ()
    """Statuses of the latest searching cycles, newest first (at most `RECENT` are used)."""
    ema: float | None = None
    """The target's ROI EMA after its latest cycle; None before the first."""
    previous_ema: float | None = None
    """The EMA before that, for the trend; None with fewer than two points."""
    since: float | None = None
    """Seconds since the last searching cycle ended; None before the first."""


@dataclass(frozen=True)
class Decision:
    """Skip, or act with a share of the target's budget, and why."""

    act: bool
    share: float
    """Fraction of the target's budget to spend (0 when skipping)."""
    reason: str
    q: Mapping[str, float] | None = None
    """The learned value of each action in this state (learning policies only)."""
    explored: bool = False
    """True when the action was drawn at random rather than the best known."""
    features: Mapping[str, str] | None = None
    """The discretised state the decision was taken in."""

    @property
    def action(self) -> str:
        """skip, act-small or act-large, from the share."""
        if not self.act:
            return SKIP
        return ACT_LARGE if self.share >= SHARES[ACT_LARGE] else ACT_SMALL


class TriggerPolicy(Protocol):
    """Decides, at each scheduled tick, whether a cycle runs."""

    name: str

    def decide(self, state: TriggerState) -> Decision:
        """The decision for this tick."""
        ...


class ChangeRule:
    """Act on change; skip an unchanged tree whose last cycle found nothing."""

    name = "change-rule"

    def decide(self, state: TriggerState) -> Decision:
        """Act unless the tree is the one the last (unfruitful) cycle already searched."""
        if state.last_tree is None:
            return Decision(True, 1.0, "no cycle yet")
        if state.tree != state.last_tree:
            return Decision(True, 1.0, "the target changed since the last cycle")
        if state.last_status == CycleStatus.REJECTED:
            return Decision(False, 0.0, "nothing changed since the last cycle found nothing")
        return Decision(True, 1.0, f"the last cycle ended {state.last_status}")


# --- the state the Q-table is indexed by --------------------------------------------------


def features(state: TriggerState, hurdle: float) -> dict[str, str]:
    """The discretised state: six coarse features, each a short label.

    roi: the EMA ``above`` or ``below`` the hurdle (``new`` before any point);
    trend: the EMA's last move, ``up``, ``down`` or ``flat``;
    changed: files changed since the last searching cycle, ``none``, ``few`` (1-3),
    ``many`` (4 or more), or ``first`` before any;
    accept: accepted share of the last `RECENT` searching cycles, ``none``, ``some``
    (under half) or ``most``;
    failures: the streak of failed (error, reverted) cycles, ``0``, ``1`` or ``2+``;
    since: time since the last searching cycle ended, ``<1h``, ``<1d``, ``1d+`` or ``never``.
    """
    roi = "new" if state.ema is None else "above" if state.ema > hurdle else "below"
    trend = "flat"
    if state.ema is not None and state.previous_ema is not None:
        move, tolerance = state.ema - state.previous_ema, max(hurdle / 100, 1e-12)
        trend = "up" if move > tolerance else "down" if move < -tolerance else "flat"
    n = state.changed_files
    changed = "first" if n is None else "none" if n == 0 else "few" if n <= 3 else "many"
    recent = state.recent[:RECENT]
    rate = sum(s == CycleStatus.ACCEPTED for s in recent) / len(recent) if recent else 0.0
    accept = "none" if rate == 0 else "some" if rate < 0.5 else "most"
    streak = 0
    for status in state.recent:
        if status not in FAILED:
            break
        streak += 1
    s = state.since
    since = "never" if s is None else "<1h" if s < 3600 else "<1d" if s < 86400 else "1d+"
    return {
        "roi": roi,
        "trend": trend,
        "changed": changed,
        "accept": accept,
        "failures": str(streak) if streak < 2 else "2+",
        "since": since,
    }


def state_key(feats: Mapping[str, str]) -> str:
    """The Q-table's key of a state: readable, and stable as JSON."""
    return ",".join(f"{name}={value}" for name, value in feats.items())


# --- Q-learning ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QOptions:
    """The knobs of the Q-learning trigger (the target file's ``[trigger]`` table)."""

    hurdle: float = 0.001
    """ROI (score per sandbox minute) a cycle must beat to be worth acting: a cycle that
    finds nothing earns ``-hurdle``, a skip 0."""
    epsilon: float = 0.1
    """Chance of a random action at the first decision."""
    decay: float = 0.99
    """Epsilon is multiplied by this at every decision..."""
    epsilon_min: float = 0.01
    """...down to this floor, so that a policy can notice that the target changed its ways."""
    learning_rate: float = 0.1
    """The floor of the step size; before that, the n-th update of an action in a state
    steps by 1/n (a plain average of its first rewards)."""
    gamma: float = 0.3
    """Weight of the next state's value. Low: an action barely changes what the next tick
    sees (the tree changes by itself), so the reward is mostly the ROI at hand."""
    seed: int = 0
    """With the decision count, seeds exploration: decisions are reproducible."""

    def __post_init__(self) -> None:
        checks = {
            "hurdle": self.hurdle >= 0,
            "epsilon": 0 <= self.epsilon <= 1,
            "decay": 0 < self.decay <= 1,
            "epsilon_min": 0 <= self.epsilon_min <= 1,
            "learning_rate": 0 < self.learning_rate <= 1,
            "gamma": 0 <= self.gamma < 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"QOptions.{name} is out of range: {getattr(self, name)!r}")


@dataclass
class Pending:
    """A decision whose update waits for its reward and for the state it led to."""

    state: str
    action: str
    reward: float | None = None
    """None until the cycle it started has ended (0 at once for a skip)."""


@dataclass
class QTrigger:
    """Tabular Q-learning over `features`, epsilon-greedy with decaying exploration."""

    options: QOptions = field(default_factory=QOptions)
    q: dict[str, dict[str, float]] = field(default_factory=dict)
    visits: dict[str, dict[str, int]] = field(default_factory=dict)
    """Completed updates of each action in each state."""
    decisions: int = 0
    """Decisions this policy took (forced cycles are not its decisions)."""
    updates: int = 0
    pending: Pending | None = None

    name = "q-learning"

    def epsilon(self) -> float:
        """The exploration rate of the next decision."""
        o = self.options
        return max(o.epsilon_min, o.epsilon * o.decay**self.decisions)

    def values(self, key: str) -> dict[str, float]:
        """Q of every action in a state, 0 for an action never updated there."""
        row = self.q.get(key, {})
        return {action: row.get(action, 0.0) for action in ACTIONS}

    def best(self, key: str) -> str:
        """The greedy action in a state: the first maximum, so acting wins ties."""
        values = self.values(key)
        return max(ACTIONS, key=lambda a: values[a])

    def decide(self, state: TriggerState) -> Decision:
        """Learn from the previous decision, then choose and remember this one."""
        self.observe(state)
        decision = self.choose(state)
        self.begin(state, decision.action)
        return decision

    def observe(self, state: TriggerState) -> None:
        """Complete the pending update, now that the state it led to is known.

        A pending decision without a reward (its cycle never ended: busy, crashed,
        stopped) is dropped.
        """
        pending, self.pending = self.pending, None
        if pending is None or pending.reward is None:
            return
        key, action = pending.state, pending.action
        counts = self.visits.setdefault(key, {})
        counts[action] = counts.get(action, 0) + 1
        step = max(self.options.learning_rate, 1.0 / counts[action])
        ahead = max(self.values(state_key(features(state, self.options.hurdle))).values())
        target = pending.reward + self.options.gamma * ahead
        row = self.q.setdefault(key, {})
        old = row.get(action, 0.0)
        row[action] = old + step * (target - old)
        self.updates += 1

    def choose(self, state: TriggerState) -> Decision:
        """Epsilon-greedy over this state's Q-values; no exploration before a first cycle."""
        feats = features(state, self.options.hurdle)
        key = state_key(feats)
        values = self.values(key)
        greedy = self.best(key)
        epsilon = self.epsilon()
        rng = random.Random(f"{self.options.seed}/{self.decisions}")
        self.decisions += 1
        if feats["changed"] == "first":
            action, explored = ACT_LARGE, False
            reason = "no cycle has searched yet: the full budget, to learn what a cycle pays"
        elif rng.random() < epsilon:
            action, explored = rng.choice(ACTIONS), True
            reason = f"exploring (epsilon {epsilon:.3f}); the best known is {greedy}"
        else:
            action, explored = greedy, False
            reason = self._why(key, values, greedy)
        return Decision(action != SKIP, SHARES[action], reason, dict(values), explored, feats)

    def _why(self, key: str, values: dict[str, float], best: str) -> str:
        tried = self.q.get(key, {})
        if not tried:
            return "nothing learned in this state yet; a tie goes to acting, with the full budget"

        def shown(action: str) -> str:
            return f"{action} {values[action]:+.4g}" + ("" if action in tried else " untried")

        others = ", ".join(shown(a) for a in ACTIONS if a != best)
        ties = [a for a in ACTIONS if values[a] == values[best] and a != best]
        tie = f"; ties with {', '.join(ties)} go to the larger action" if ties else ""
        return f"highest value here ({shown(best)}; {others}){tie}"

    def begin(self, state: TriggerState, action: str) -> None:
        """Remember the action taken in `state`: a skip has its reward (0) at once.

        Q-learning is off-policy: the action may come from another policy (the change
        rule, a forced cycle), and the table still learns from it.
        """
        if action not in SHARES:
            raise ValueError(f"unknown action {action!r}: expected one of {', '.join(ACTIONS)}")
        key = state_key(features(state, self.options.hurdle))
        self.pending = Pending(key, action, 0.0 if action == SKIP else None)

    def record(self, roi: float | None) -> None:
        """The ROI the pending action's cycle earned; None: the cycle did not search."""
        if self.pending is None or self.pending.action == SKIP:
            return
        if roi is None:
            self.pending = None
        else:
            self.pending.reward = roi - self.options.hurdle

    # --- persistence --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """What the store keeps (the options come from the target file, not from here)."""
        pending = self.pending
        return {
            "v": STATE_VERSION,
            "q": self.q,
            "visits": self.visits,
            "decisions": self.decisions,
            "updates": self.updates,
            "pending": None
            if pending is None
            else {"state": pending.state, "action": pending.action, "reward": pending.reward},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, options: QOptions | None = None) -> QTrigger:
        """A policy from its stored state; None starts afresh.

        Raises:
            ValueError: the data is of another version or malformed.
        """
        options = options or QOptions()
        if data is None:
            return cls(options)
        if data.get("v") != STATE_VERSION:
            raise ValueError(f"trigger state version {data.get('v')!r}, expected {STATE_VERSION}")
        try:
            q = {
                k: {a: float(v) for a, v in row.items() if a in SHARES}
                for k, row in data["q"].items()
            }
            visits = {
                k: {a: int(v) for a, v in row.items() if a in SHARES}
                for k, row in data["visits"].items()
            }
            raw = data.get("pending")
            pending = None
            if raw is not None:
                reward = raw.get("reward")
                pending = Pending(
                    str(raw["state"]), str(raw["action"]), None if reward is None else float(reward)
                )
            return cls(options, q, visits, int(data["decisions"]), int(data["updates"]), pending)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"malformed trigger state: {exc!r}") from exc
