"""Selection: the best improving candidate that does no harm, ties broken without the clock."""

from __future__ import annotations

from daemon.cycles.baseline import Baseline
from daemon.cycles.search import novelty
from daemon.cycles.selection import select
from policies.codemods import apply_mutation, enumerate_mutations
from sandbox.evaluate import TestRun
from sandbox.job import Outcome, Result

SOURCE = """\
def clamp(x, low, high):
    if x < low:
        return low
    if x > high:
        return low
    return x
"""
TESTS = ("t_low", "t_high", "t_mid", "t_edge")
BASELINE = Baseline(0.5, 2, 4, ["t_low", "t_mid"], outcomes=dict.fromkeys(TESTS, "failed"))


def run(passing: set[str], wall_time: float = 0.1) -> TestRun:
    tests = {t: "passed" if t in passing else "failed" for t in TESTS}
    return TestRun(Result(Outcome.FAILED, 1, wall_time), tests, len(TESTS), True)


def find(mutations, new_fragment: str) -> int:
    return next(i for i, m in enumerate(mutations) if new_fragment in apply_mutation(SOURCE, m))


def apply(mutation):
    return apply_mutation(SOURCE, mutation)


def fixing_line_5(mutations):
    fixed = SOURCE[::-1].replace("wol nruter", "hgih nruter", 1)[::-1]
    return next(m for m in mutations if apply_mutation(SOURCE, m) == fixed)


def test_of_two_repairs_the_one_bringing_less_new_code_wins_whatever_the_order():
    mutations = enumerate_mutations(SOURCE, "m.py")
    fix = mutations.index(fixing_line_5(mutations))
    wider = max(range(len(mutations)), key=lambda i: novelty(SOURCE, apply(mutations[i])))
    assert novelty(SOURCE, apply(mutations[wider])) > novelty(SOURCE, apply(mutations[fix]))
    runs = {fix: run(set(TESTS)), wider: run(set(TESTS))}
    for order in ([fix, wider], [wider, fix]):
        chosen = select(mutations, runs, {"m.py": SOURCE}, BASELINE, order).winner
        assert chosen is not None and chosen[0] == mutations[fix]


def test_ties_go_to_the_earlier_candidate_in_the_search_never_the_faster():
    mutations = enumerate_mutations(SOURCE, "m.py")
    fix = find(mutations, "        return high\n")
    other = find(mutations, "    if x > high or x < low:\n")  # as novel, and a second variant
    assert mutations[fix].variant == mutations[other].variant == 1
    runs = {fix: run({"t_low", "t_mid", "t_high"}, 9.0), other: run({"t_low", "t_mid", "t_high"})}
    for order in ([fix, other], [other, fix]):
        chosen = select(mutations, runs, {"m.py": SOURCE}, BASELINE, order).winner
        assert chosen is not None and chosen[0] == mutations[order[0]]


def test_ties_in_new_code_go_to_the_nearest_alternative_of_an_operator():
    mutations = enumerate_mutations(SOURCE, "m.py")
    near, far = find(mutations, "    if x >= high:\n"), find(mutations, "    if x <= high:\n")
    assert (mutations[near].variant, mutations[far].variant) == (0, 2)  # >= is nearer to >
    passing = {"t_low", "t_mid", "t_high"}
    runs = {near: run(passing), far: run(passing)}
    chosen = select(mutations, runs, {"m.py": SOURCE}, BASELINE, [far, near]).winner
    assert chosen is not None and chosen[0] == mutations[near]


def test_runs_outside_the_given_order_are_not_candidates():
    mutations = enumerate_mutations(SOURCE, "m.py")
    fix = mutations.index(fixing_line_5(mutations))
    other = find(mutations, "    if x >= high:\n")
    runs = {fix: run(set(TESTS)), other: run({"t_low", "t_mid", "t_high"})}
    chosen = select(mutations, runs, {"m.py": SOURCE}, BASELINE, [other]).winner
    assert chosen is not None and chosen[0] == mutations[other]  # fix ran in a later batch


def test_a_partial_improvement_with_an_anti_pattern_is_refused_with_its_reason():
    mutations = enumerate_mutations(SOURCE, "m.py")
    early = find(mutations, "    if x > high:\n        pass\n")
    runs = {early: run({"t_low", "t_mid", "t_high"})}
    selection = select(mutations, runs, {"m.py": SOURCE}, BASELINE)
    assert selection.winner is None
    assert "replaces a statement by pass" in selection.refused[early]
    assert "refused to do no harm" in selection.refusals(mutations)


def test_a_change_that_passes_every_test_is_a_repair_whatever_its_shape():
    mutations = enumerate_mutations(SOURCE, "m.py")
    early = find(mutations, "    if x > high:\n        pass\n")
    runs = {early: run(set(TESTS))}
    selection = select(mutations, runs, {"m.py": SOURCE}, BASELINE)
    assert selection.winner is not None and selection.refused == {}


def test_a_partial_improvement_where_tests_still_fail_is_refused_elsewhere_kept():
    mutations = enumerate_mutations(SOURCE, "m.py")
    fix = mutations.index(fixing_line_5(mutations))
    coverage = {"tests": {"t_high": {"m.py": [4, 5]}, "t_edge": {"m.py": [4, 5]}}}
    covered = Baseline(0.5, 2, 4, ["t_low", "t_mid"], outcomes=BASELINE.outcomes, coverage=coverage)
    runs = {fix: run({"t_low", "t_mid", "t_high"})}  # t_edge ran line 5 and still fails
    selection = select(mutations, runs, {"m.py": SOURCE}, covered)
    assert selection.winner is None
    assert "1 still failing test(s) run (t_edge)" in selection.refused[fix]
    coverage["tests"]["t_edge"] = {"m.py": [2, 3]}  # t_edge fails in other code
    assert select(mutations, runs, {"m.py": SOURCE}, covered).winner is not None
