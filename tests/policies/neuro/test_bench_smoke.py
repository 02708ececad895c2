"""bench/neuroevo.py runs end to end on a tiny budget."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[3] / "bench" / "neuroevo.py"


@pytest.mark.slow  # real evolution on CartPole: about 10 s
def test_the_benchmark_runs_on_a_tiny_budget(tmp_path, capsys, monkeypatch):
    spec = importlib.util.spec_from_file_location("neuroevo_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)  # dataclasses look their module up
    spec.loader.exec_module(bench)
    out = tmp_path / "rows.json"
    argv = ["--methods", "dualmixture", "es", "--seeds", "1", "--steps", "1500"]
    assert bench.main([*argv, "--population", "5", "--out", str(tmp_path), "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [r["method"] for r in rows] == ["dualmixture", "es"]
    assert all(r["env_steps"] >= 1500 or r["solved"] for r in rows)
    assert (tmp_path / "cartpole-dualmixture-0" / "curve.png").exists()
    assert "| CartPole-v1 | dualmixture |" in capsys.readouterr().out
