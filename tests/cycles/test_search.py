"""The candidate scheduler on plain lists and a hand-made clock: no sandbox, no sleeps."""

from __future__ import annotations

import pytest

from daemon.cycles.search import CandidateScheduler, Prioritised, novelty


class ListOrder:
    """A search order over a fixed list that remembers what it was told."""

    def __init__(self, items: list[int]) -> None:
        self.items, self.observed = list(items), []

    def next(self, count: int) -> list[int]:
        taken, self.items = self.items[:count], self.items[count:]
        return taken

    def observe(self, item: int, improved: bool) -> None:
        self.observed.append((item, improved))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def scheduler(
    items=range(100),
    *,
    batch=4,
    limit=100,
    patience=50,
    deadline=10.0,
    alternatives=0,
    clock=None,
    estimate=0.0,
):
    order = ListOrder(list(items))
    made = CandidateScheduler(
        order,
        batch=batch,
        limit=limit,
        patience=patience,
        deadline=deadline,
        alternatives=alternatives,
        clock=clock or Clock(),
        estimate=estimate,
    )
    return made, order


def drain(s: CandidateScheduler) -> list[list[int]]:
    batches = []
    while batch := s.take():
        batches.append(batch)
    return batches


def test_batches_stop_at_the_candidate_cap():
    s, _ = scheduler(limit=10)
    assert drain(s) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_selection_looks_no_further_than_the_first_batch_holding_a_repair():
    s, _ = scheduler()
    first, second, third = s.take(), s.take(), s.take()  # three batches in flight
    for item in third:  # the third finishes first, with a repair
        s.record(item, improved=item == 9, perfect=item == 9)
    assert s.settled() == first + second + third
    s.record(5, improved=True, perfect=True)  # then one in the second: it settles earlier
    assert s.settled() == first + second
    assert s.take() == []


def test_without_a_repair_every_item_handed_out_is_settled():
    s, _ = scheduler(limit=6)
    drain(s)
    assert s.settled() == list(range(6))


def test_batches_stop_when_the_order_runs_out():
    s, _ = scheduler(items=range(5))
    assert drain(s) == [[0, 1, 2, 3], [4]]


def test_the_first_improvement_leaves_only_patience_more_candidates():
    s, order = scheduler(patience=3)
    first = s.take()
    s.record(first[1], improved=True)
    assert drain(s) == [[4, 5, 6]]  # 4 handed out, then patience 3
    assert (1, True) in order.observed


def test_an_improvement_refused_to_do_no_harm_teaches_the_order_but_starts_no_patience():
    s, order = scheduler(items=range(12), patience=3)
    first = s.take()
    s.record(first[1], improved=True, settled=False)  # a partial gain that may not be committed
    assert (1, True) in order.observed
    assert sum(len(b) for b in drain(s)) == 8  # the search goes on to the end of the order


def test_the_first_committable_improvement_starts_the_patience():
    s, _ = scheduler(patience=3)
    s.record(s.take()[0], improved=True, settled=False)
    s.record(s.take()[0], improved=True, settled=True)  # 8 handed out, then patience 3
    assert drain(s) == [[8, 9, 10]]


def test_a_later_improvement_never_extends_the_limit():
    s, _ = scheduler(patience=6)
    s.record(s.take()[0], improved=True)  # limit 4 + 6 = 10
    s.take()
    s.record(5, improved=True)  # 8 + 6 = 14 > 10: the limit stays 10
    assert sum(len(b) for b in drain(s)) == 2


def test_a_perfect_candidate_ends_the_search():
    s, _ = scheduler()
    s.record(s.take()[0], improved=True, perfect=True)
    assert s.take() == []


def test_a_repair_leaves_the_alternatives_past_its_batch():
    s, _ = scheduler(alternatives=3)
    s.record(s.take()[1], improved=True, perfect=True)
    assert drain(s) == [[4, 5, 6]]
    assert s.settled() == list(range(7))


def test_alternatives_count_from_the_first_batch_holding_a_repair_not_the_first_to_finish():
    s, _ = scheduler(alternatives=2)
    first, second = s.take(), s.take()  # two batches in flight
    s.record(second[0], improved=True, perfect=True)  # limit 8 + 2
    s.record(first[3], improved=True, perfect=True)  # limit 4 + 2: already handed out
    assert s.take() == []
    assert s.settled() == first + second[:2]


def test_no_batch_starts_after_the_deadline():
    clock = Clock()
    s, _ = scheduler(clock=clock, deadline=5.0)
    assert s.take() == [0, 1, 2, 3]
    clock.now = 5.0
    assert s.take() == [4, 5, 6, 7]  # at the deadline still
    clock.now = 5.01
    assert s.take() == []


def test_a_batch_is_cut_to_what_the_time_left_buys_at_the_estimate():
    s, _ = scheduler(deadline=10.0, estimate=3.0)
    assert s.take() == [0, 1, 2]


def test_the_cost_seen_replaces_the_estimate_and_the_last_batch_overshoots_by_one():
    clock = Clock()
    s, _ = scheduler(clock=clock, deadline=10.0, estimate=1.0)
    first = s.take()
    assert first == [0, 1, 2, 3]  # 10 s buy ten at 1 s each
    for item in first:
        s.record(item, improved=False)
    clock.now = 8.0  # 2 s each: 2 s left buy one
    assert s.take() == [4]
    s.record(4, improved=False)
    clock.now = 10.0  # no time left, but not past the deadline: one more
    assert s.take() == [5]
    s.record(5, improved=False)
    clock.now = 12.0
    assert s.take() == []


def test_candidates_in_flight_are_paid_for_before_the_next_batch():
    s, _ = scheduler(deadline=10.0, estimate=2.0)
    assert s.take() == [0, 1, 2, 3]  # 8 s of the 10 s, not recorded yet
    assert s.take() == [4]


def test_without_an_estimate_or_a_deadline_batches_are_whole():
    s, _ = scheduler(deadline=float("inf"), estimate=5.0)
    assert s.take() == [0, 1, 2, 3]
    s, _ = scheduler(deadline=1.0)
    assert s.take() == [0, 1, 2, 3]


def test_stop_hands_out_nothing_more():
    s, _ = scheduler()
    s.stop()
    assert s.take() == []


@pytest.mark.parametrize(
    "bad", [{"batch": 0}, {"limit": -1}, {"patience": -1}, {"alternatives": -1}]
)
def test_settings_out_of_range_are_refused(bad):
    with pytest.raises(ValueError, match="out of range"):
        scheduler(**bad)


def test_novelty_counts_the_token_trigrams_a_change_brings():
    old = "def f(x):\n    return x + 1\n"
    assert novelty(old, old) == 0
    assert novelty(old, old.replace("+ 1", "- 1")) == 2  # "return x -" and "x - 1"
    assert novelty(old, old.replace("+ 1", "+ 10")) == 1  # "x + 10"
    reuse = "def f(x, y):\n    y = x + 1\n    return x + 1\n"
    assert novelty(reuse, reuse.replace("return x + 1", "return y")) < novelty(
        reuse, reuse.replace("return x + 1", "return x * 2")
    )


def test_novelty_earns_nothing_for_removing_code():
    old = "def f(x):\n    x = x * 2\n    return x\n"
    assert novelty(old, "def f(x):\n    return x\n") == 2  # the joins ") : return", ": return x"


def test_prioritised_hands_out_its_first_items_once_then_the_order():
    order = ListOrder([5, 1, 2, 3])
    prioritised = Prioritised([3, 9], order)
    assert prioritised.next(3) == [3, 9, 5]
    assert prioritised.next(5) == [1, 2]  # 3 was handed out already
    assert prioritised.next(1) == []
    prioritised.observe(9, True)
    assert order.observed == [(9, True)]
