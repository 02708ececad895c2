"""Search orders over the mutations of a cycle: plain, random, and learned."""

from __future__ import annotations

import textwrap

import pytest

from policies.codemods import catalogue, enumerate_mutations
from policies.ordering import LearnedOrder, PlainOrder, RandomOrder, SearchContext, ordering_for
from policies.preferences import OperatorPreferences

SOURCE = textwrap.dedent(
    """\
    def grade(score, passmark):
        if score < passmark:
            return "fail"
        if score > 2 * passmark:
            return "merit"
        return "pass"


    def area(w, h):
        return w * h + 1
    """
)
MUTATIONS = enumerate_mutations(SOURCE, "m.py")
SUSPICIOUS = {("m.py", 10): 1.0, ("m.py", 2): 0.5, ("m.py", 1): 0.2}


def drain(search, batch=7, improved=lambda m: False):
    order = []
    while taken := search.next(batch):
        order += taken
        for mutation in taken:
            search.observe(mutation, improved(mutation))
    return order


@pytest.mark.parametrize("name", ["plain", "random", "learned"])
def test_every_order_hands_out_each_mutation_once(name):
    order = drain(ordering_for(name).search(MUTATIONS, SearchContext(3, SUSPICIOUS)))
    assert sorted(order, key=MUTATIONS.index) == MUTATIONS


def test_plain_is_enumeration_and_random_depends_only_on_the_seed():
    assert drain(PlainOrder().search(MUTATIONS, SearchContext(1))) == MUTATIONS
    first = drain(RandomOrder().search(MUTATIONS, SearchContext(1)))
    assert first == drain(RandomOrder().search(MUTATIONS, SearchContext(1)))
    assert first != drain(RandomOrder().search(MUTATIONS, SearchContext(2)))


def test_the_learned_order_starts_on_the_most_suspicious_line():
    order = drain(LearnedOrder().search(MUTATIONS, SearchContext(0, SUSPICIOUS)))
    on_line_10 = sum(1 for m in MUTATIONS if m.line == 10)
    assert {m.line for m in order[:on_line_10]} == {10}
    assert order[on_line_10].line == 2


def test_on_a_line_fine_edits_come_before_coarse_ones():
    order = LearnedOrder().search(MUTATIONS, SearchContext(0, SUSPICIOUS)).next(len(MUTATIONS))
    for line in (10, 2):
        coarse = [catalogue()[m.operator].coarse for m in order if m.line == line]
        assert True in coarse and False in coarse
        assert coarse == sorted(coarse)  # every fine edit of the line, then every coarse one


def test_an_operator_with_many_variants_does_not_crowd_out_the_others():
    order = LearnedOrder().search(MUTATIONS, SearchContext(0, SUSPICIOUS)).next(len(MUTATIONS))
    fine = [m for m in order if m.line == 10 and not catalogue()[m.operator].coarse]
    variants = {op: sum(1 for m in fine if m.operator == op) for op in {m.operator for m in fine}}
    assert sorted(variants.values()) == [2, 2, 3, 3, 4]  # so the check below says something
    shares = [1 / variants[m.operator] for m in fine]
    assert shares == sorted(shares, reverse=True)  # an operator's share of the line is split
    assert variants[fine[0].operator] == 2 and variants[fine[-1].operator] == 4


def test_the_learned_order_is_deterministic_for_a_seed():
    def run(seed):
        preferences = OperatorPreferences.from_dict(
            None, [{"v": 1, "arms": {"arith-swap": [9, 3]}}]
        )
        search = LearnedOrder(preferences).search(MUTATIONS, SearchContext(seed, SUSPICIOUS))
        return drain(search, improved=lambda m: m.operator == "compare-swap")

    assert run(5) == run(5)
    assert run(5) != run(6)  # ties are broken by the seeded shuffle


def test_outcomes_reorder_the_rest_of_a_search():
    preferences = OperatorPreferences()
    search = LearnedOrder(preferences).search(MUTATIONS, SearchContext(0, {("m.py", 10): 1.0}))
    first = search.next(1)[0]
    for _ in range(50):  # that operator keeps failing: it sinks below the others
        search.observe(first, improved=False)
    [second] = search.next(1)
    assert second.line == 10 and second.operator != first.operator
    assert preferences.arms[first.operator].tried == 50


def test_preferences_pool_other_targets_and_round_trip():
    others = [
        {"v": 1, "arms": {"compare-swap": [10, 4]}},
        {"v": 1, "arms": {"compare-swap": [8, 4]}},
    ]
    preferences = OperatorPreferences.from_dict(None, others)
    assert preferences.prior["compare-swap"] == (8 + 1) / (18 + 2)
    assert preferences.weight("never-seen") == preferences.prior["compare-swap"]
    preferences.update("off-by-one", improved=True)
    again = OperatorPreferences.from_dict(preferences.to_dict(), others)
    assert again.arms == preferences.arms
    assert again.weight("off-by-one") > again.weight("compare-swap")
    assert OperatorPreferences.from_dict({"v": 99, "arms": {"x": [1, 1]}}).arms == {}


def test_an_unknown_order_is_refused_by_name():
    with pytest.raises(ValueError, match=r"unknown order 'best'.*learned, random, plain"):
        ordering_for("best")
