"""A cycle's ROI (score kept per sandbox minute) and its moving average."""

from __future__ import annotations

import re

import pytest

from policies.roi import MIN_COST_MINUTES, gain_and_cost, next_ema, roi_point


def report(status: str, base=0.5, best=0.75, seconds=120.0, cycle=7) -> dict:
    return {
        "cycle": cycle,
        "status": status,
        "baseline_score": base,
        "best_score": best,
        "sandbox_seconds": seconds,
    }


def test_an_accepted_cycle_earns_its_gain_per_sandbox_minute():
    point = roi_point(report("accepted"), previous_ema=None)
    assert (point.cycle, point.gain, point.cost, point.roi) == (7, 0.25, 2.0, 0.125)
    assert point.ema == 0.125  # the first point starts the series


@pytest.mark.parametrize("status", ["rejected", "reverted", "error"])
def test_a_cycle_whose_change_did_not_stay_earns_nothing_but_costs(status):
    point = roi_point(report(status), previous_ema=0.2, alpha=0.5)
    assert (point.gain, point.cost, point.roi) == (0.0, 2.0, 0.0)
    assert point.ema == pytest.approx(0.1)


@pytest.mark.parametrize("status", ["waiting", "stopped", "interrupted", "running"])
def test_a_cycle_that_did_not_search_has_no_roi(status):
    assert roi_point(report(status), previous_ema=0.2) is None


def test_a_nearly_free_cycle_costs_at_least_the_floor():
    assert gain_and_cost("accepted", 0.5, 1.0, 0.0) == (0.5, MIN_COST_MINUTES)
    assert gain_and_cost("accepted", None, None, 30.0) == (0.0, 0.5)  # no scores: no gain


def test_the_ema_weighs_the_newest_point_by_alpha():
    ema = None
    for value in (1.0, 0.0, 0.0):
        ema = next_ema(ema, value, 0.1)
    assert ema == pytest.approx(0.81)
    with pytest.raises(ValueError, match=re.escape("alpha must be in (0, 1], got 0")):
        next_ema(1.0, 1.0, 0)
