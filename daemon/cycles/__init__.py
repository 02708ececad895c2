"""Cycles: one improvement attempt on a target, from baseline to a verified commit.

`run_cycle` is the entry point; `daemon.cycles.base` is the skeleton each kind
(`code`, `weights`) fills in; `search` schedules a code cycle's candidates;
`learn` and `trigger` are what the trigger policy and the operator
preferences see and learn; `events` and `report` are what a cycle tells.
"""

from daemon.cycles.report import CycleReport
from daemon.cycles.runner import run_cycle

__all__ = ["CycleReport", "run_cycle"]
