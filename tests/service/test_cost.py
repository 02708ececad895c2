"""What a cycle is expected to cost: its recent cycles' sandbox seconds, else its budget."""

from __future__ import annotations

from pathlib import Path

from daemon.registry import TargetSpec, load_target
from daemon.service.cost import cheapest_first, expected_cost
from daemon.store import Store, open_store
from policies.status import CycleStatus

CODE = 'name = "{name}"\nrepo = "/tmp/{name}"\nfiles = ["x/*.py"]\n[budget]\nseconds = {seconds}\n'
WEIGHTS = (
    'name = "{name}"\nkind = "weights"\nrepo = "/tmp/{name}"\nenv = "CartPole-v1"\n'
    'network = "policy:Policy"\nweights = "w.safetensors"\n[budget]\nseconds = "{seconds}s"\n'
)


def target(tmp_path: Path, text: str, name: str, seconds: int) -> TargetSpec:
    path = tmp_path / f"{name}.toml"
    path.write_text(text.format(name=name, seconds=seconds))
    return load_target(path, tmp_path)


def cycle(store: Store, name: str, status: CycleStatus, sandbox_seconds: float) -> None:
    cycle_id, _ = store.start_cycle(name, forced=False, head=None)
    store.end_cycle(cycle_id, status, "test", sandbox_seconds=sandbox_seconds)


def test_a_target_with_no_history_costs_its_budget(tmp_path):
    store = open_store(tmp_path)
    assert expected_cost(target(tmp_path, CODE, "alpha", 300), store) == 300.0
    assert expected_cost(target(tmp_path, WEIGHTS, "lander", 1200), store) == 1200.0


def test_a_target_costs_the_mean_of_its_last_searching_cycles(tmp_path):
    store = open_store(tmp_path)
    spec = target(tmp_path, CODE, "alpha", 300)
    for seconds in (500.0, 30.0, 60.0, 90.0):
        cycle(store, "alpha", CycleStatus.ACCEPTED, seconds)
    cycle(store, "alpha", CycleStatus.STOPPED, 1.0)  # cut short: not what a cycle costs
    assert expected_cost(spec, store) == 60.0


def test_the_cheapest_target_comes_first(tmp_path):
    store = open_store(tmp_path)
    lander = target(tmp_path, WEIGHTS, "lander", 1200)
    cartpole = target(tmp_path, WEIGHTS, "cartpole", 600)
    alpha = target(tmp_path, CODE, "alpha", 300)
    assert [s.name for s in cheapest_first([lander, cartpole, alpha], store)] == [
        "alpha",
        "cartpole",
        "lander",
    ]
    cycle(store, "lander", CycleStatus.REJECTED, 100.0)  # its history says it is quick
    assert cheapest_first([lander, cartpole, alpha], store)[0].name == "lander"
