"""Target files: validated into frozen specs, with errors naming file and field."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

from daemon.paths import PROJECT_ROOT
from daemon.registry import TargetError, UnknownTarget, load_registry, load_target, render

GOOD = """\
name = "beta"
repo = "{state}/bots/beta"
files = ["beta/*.py"]
schedule = { every = "10m" }

[budget]
candidates = 8
seconds = "2m"

[sandbox]
memory = "256m"
timeout = "20s"
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_good_file_becomes_a_frozen_spec(tmp_path):
    spec = load_target(write(tmp_path, "beta", GOOD), tmp_path / "state")
    assert spec.name == "beta"
    assert spec.repo == (tmp_path / "state" / "bots" / "beta").resolve()
    assert spec.config.budget.seconds == 120.0
    assert spec.config.schedule.every == 600.0
    assert spec.config.sandbox.limits().memory == 256 * 2**20
    with pytest.raises(Exception, match="frozen"):
        spec.config.name = "other"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (("candidates = 8", "candidates = -1"), "budget.candidates", "greater than 0, got -1"),
        (('name = "beta"', 'name = "beta"\ncolour = "blue"'), "colour", "unknown key"),
        (('every = "10m"', 'every = "soon"'), "schedule.every", "expected a duration"),
        (('memory = "256m"', 'memory = "lots"'), "sandbox", "sandbox limit 'memory'"),
        (('files = ["beta/*.py"]', ""), "files", "missing: this field is required"),
        (('name = "beta"', 'name = "gamma"'), "name", "must match the file name 'beta'"),
        (("[sandbox]", "[trigger]\nalpha = 0\n\n[sandbox]"), "trigger.alpha", "greater than 0"),
        (("[sandbox]", "[trigger]\nhurdle = -1\n\n[sandbox]"), "trigger.hurdle", "got -1"),
        (
            ("[sandbox]", '[trigger]\npolicy = "sometimes"\n\n[sandbox]'),
            "trigger.policy",
            "'q-learning' or 'change-rule', got 'sometimes'",
        ),
        (("[sandbox]", "[trigger]\ngamma = 0.9\n\n[sandbox]"), "trigger.gamma", "unknown key"),
    ],
)
def test_errors_name_the_file_and_the_field(tmp_path, change, field, message):
    path = write(tmp_path, "beta", GOOD.replace(*change))
    with pytest.raises(TargetError, match=re.escape(f"{path}: {field}: ")) as caught:
        load_target(path, tmp_path)
    assert message in str(caught.value)


def test_not_toml_is_a_clear_error(tmp_path):
    path = write(tmp_path, "beta", "name = \n")
    with pytest.raises(TargetError, match=re.escape(f"{path}: not valid TOML")):
        load_target(path, tmp_path)


def test_a_bad_file_does_not_hide_the_others(tmp_path):
    write(tmp_path, "beta", GOOD)
    write(tmp_path, "broken", "name = 'broken'\n")
    registry = load_registry(tmp_path, tmp_path / "state")
    assert list(registry.targets) == ["beta"]
    assert [p.name for p in registry.errors] == ["broken.toml"]


def test_unknown_names_get_suggestions(tmp_path):
    write(tmp_path, "beta", GOOD)
    registry = load_registry(tmp_path, tmp_path)
    with pytest.raises(UnknownTarget, match=re.escape("Did you mean 'beta'?")):
        registry.get("betta")


def test_the_shipped_targets_are_valid(tmp_path):
    registry = load_registry(PROJECT_ROOT / "targets", tmp_path)
    assert registry.errors == {}
    assert "alpha" in registry.targets
    assert registry.targets["alpha"].example.is_dir()


def test_the_trigger_table_defaults_and_renders_back(tmp_path):
    spec = load_target(write(tmp_path, "beta", GOOD), tmp_path)
    assert spec.config.trigger.policy == "q-learning" and spec.config.trigger.alpha == 0.1
    text = GOOD + '\n[trigger]\npolicy = "change-rule"\nalpha = 0.25\nhurdle = 0.0\nseed = 3\n'
    spec = load_target(write(tmp_path, "beta", text), tmp_path)
    assert spec.config.trigger.options().seed == 3
    (tmp_path / "again").mkdir()
    again = load_target(write(tmp_path / "again", "beta", render(spec.config)), tmp_path)
    assert again.config == spec.config
    assert "[trigger]" in render(spec.config)


WEIGHTS = """\
name = "pole"
kind = "weights"
repo = "{state}/bots/pole"
env = "CartPole-v1"
network = "policy:Policy"
network_kwargs = { obs_dim = 4, act_dim = 2, hidden = [16] }
weights = "weights/policy.safetensors"

[evaluation]
episodes = 3
holdout = 50

[budget]
generations = 20
stop_at = 500

[evolution]
population = 33
crossover = 0.2

[evolution.structure]
add_neuron = 0.1
parsimony = 0.001
"""


def test_a_weights_target_becomes_a_frozen_spec_with_weights_defaults(tmp_path):
    spec = load_target(write(tmp_path, "pole", WEIGHTS), tmp_path / "state")
    config = spec.config
    assert config.kind == "weights" and config.env == "CartPole-v1"
    assert config.owned == ["weights/policy.safetensors"]
    assert config.evaluation.holdout == 50 and config.evaluation.validation == 20
    assert config.trigger.policy == "change-rule" and config.schedule.every == 3600.0
    assert config.sandbox.limits().memory == 2**30
    run = config.evolution.config(generations=20, seed=7)
    assert run.population == 33 and run.crossover == 0.2 and run.seed == 7
    assert run.structure.add_neuron == 0.1 and run.structure.parsimony == 0.001
    torch_state = WEIGHTS.replace("policy.safetensors", "policy.pt")
    config = load_target(write(tmp_path, "pole", torch_state), tmp_path).config
    assert config.owned == ["weights/policy.pt", "weights/policy.json"]


def test_a_weights_target_renders_back_to_itself(tmp_path):
    spec = load_target(write(tmp_path, "pole", WEIGHTS), tmp_path)
    (tmp_path / "again").mkdir()
    again = load_target(write(tmp_path / "again", "pole", render(spec.config)), tmp_path)
    assert again.config == spec.config
    assert "[evolution.structure]" in render(spec.config)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (('kind = "weights"', 'kind = "weight"'), "kind", "expected 'code' or 'weights'"),
        (('env = "CartPole-v1"\n', ""), "env", "missing: this field is required"),
        (("holdout = 50", "holdout = 10"), "evaluation.holdout", "greater than or equal to 30"),
        (("episodes = 3", "episodes = 0"), "evaluation.episodes", "greater than or equal to 1"),
        (("population = 33", "population = 2"), "evolution.population", "got 2"),
        (("population = 33", "population = 33\nelite = 33"), "evolution", "elite 33 must be"),
        (("population = 33", 'method = "annealing"'), "evolution.method", "'annealing'"),
        (("population = 33", 'population = 33\nmethod = "es"'), "evolution", "'es' has a fixed"),
        (("crossover = 0.2", "crosover = 0.2"), "evolution.crosover", "unknown key"),
        (
            ("add_neuron = 0.1", "add_neuron = 0.9\nremove_neuron = 0.5"),
            "evolution.structure",
            "sum to <= 1",
        ),
        (("generations = 20", "generations = 0"), "budget.generations", "greater than 0"),
        (("[budget]", "[budget]\ncandidates = 5"), "budget.candidates", "unknown key"),
        (('"policy:Policy"', '"policy.Policy"'), "network", "expected 'module:Class'"),
        (("network = ", 'policy = "p:P"\nnetwork = '), "policy", "give 'network' only"),
        (('"weights/policy.safetensors"', '"../policy.safetensors"'), "weights", "inside the repo"),
        (('"weights/policy.safetensors"', '"weights/policy.bin"'), "weights", ".safetensors, .pt"),
        (('name = "pole"', 'name = "pole"\nfiles = ["a.py"]'), "files", "unknown key"),
    ],
)
def test_weights_target_errors_name_the_field(tmp_path, change, field, message):
    path = write(tmp_path, "pole", WEIGHTS.replace(*change))
    with pytest.raises(TargetError, match=re.escape(f"{path}: {field}: ")) as caught:
        load_target(path, tmp_path)
    assert message in str(caught.value)


def test_the_shipped_weights_targets_are_valid(tmp_path):
    registry = load_registry(PROJECT_ROOT / "targets", tmp_path)
    for name, env in (("cartpole", "CartPole-v1"), ("lander", "LunarLander-v3")):
        spec = registry.targets[name]
        assert spec.config.kind == "weights" and spec.config.env == env
        assert (spec.example / "policy.py").is_file()
        assert not (spec.example / spec.config.weights).exists()  # the first cycle makes it


def test_the_weights_tables_default_to_the_librarys_own_defaults(tmp_path):
    from daemon.registry.weights import MIN_HOLDOUT, EvolutionSpec, StructureSpec
    from policies.neuro import EvolutionConfig, StructureOptions
    from policies.neuro.accept import MIN_EPISODES

    assert MIN_HOLDOUT == MIN_EPISODES
    assert StructureSpec().options() == StructureOptions()
    library = EvolutionConfig()
    ours = EvolutionSpec().config(population=library.population, generations=library.generations)
    assert ours == library


def test_the_old_name_of_a_renamed_key_is_read_with_a_warning(tmp_path, caplog):
    old = WEIGHTS.replace("network = ", "policy = ").replace("network_kwargs", "policy_kwargs")
    path = write(tmp_path, "pole", old)
    config = load_target(path, tmp_path).config
    assert config.network == "policy:Policy" and config.network_kwargs["hidden"] == [16]
    assert f"{path}: 'policy' is deprecated; call it 'network'" in caplog.text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (('["beta/*.py"]', '["../../etc/*"]'), "files", "'../../etc/*' is outside the repo"),
        (('["beta/*.py"]', '["beta/*.py", "/etc/*"]'), "files", "'/etc/*' is outside the repo"),
        (('"beta/*.py"]', '"beta/*.py"]\ntests = ["/etc"]'), "tests", "'/etc' is outside"),
        (('"beta/*.py"]', '"beta/*.py"]\ntests = ["t/../../x"]'), "tests", "is outside"),
        (('"beta/*.py"]', '"beta/*.py"]\ntests = ["--rootdir=/"]'), "tests", "'/' is outside"),
        (('"beta/*.py"]', '"beta/*.py"]\ntests = ["tests", "-k"]'), "tests", "'-k' needs a value"),
        (('"beta/*.py"]', '"beta/*.py"]\nheld_out = ["../held"]'), "held_out", "is outside"),
        (('seconds = "2m"', "seconds = inf"), "budget.seconds", "at most 24h, got inf"),
        (('seconds = "2m"', "seconds = nan"), "budget.seconds", "at most 24h, got nan"),
        (('seconds = "2m"', 'seconds = "25h"'), "budget.seconds", "at most 24h"),
        (('seconds = "2m"', f'seconds = "{"9" * 400}h"'), "budget.seconds", "at most 24h"),
        (('every = "10m"', "every = inf"), "schedule.every", "at most"),
        (('memory = "256m"', 'memory = "1k"'), "sandbox.memory", "give at least 64m"),
        (('memory = "256m"', 'memory = "256m"\ncpus = 1000'), "sandbox.cpus", "to 64 cores"),
        (('memory = "256m"', 'memory = "256m"\ncpus = 0.001'), "sandbox.cpus", "0.01 to 64"),
        (('memory = "256m"', 'memory = "256m"\ncpus = inf'), "sandbox.cpus", "finite"),
        (('timeout = "20s"', 'timeout = "25h"'), "sandbox.timeout", "at most 24h"),
        (('timeout = "20s"', f'timeout = "{"9" * 400}s"'), "sandbox.timeout", "at most 24h"),
        (('name = "beta"', 'name = "Beta"'), "name", "'Beta': use lower-case letters"),
    ],
)
def test_hostile_values_name_the_file_and_the_field(tmp_path, change, field, message):
    path = write(tmp_path, "beta", GOOD.replace(*change))
    before = path.read_bytes()
    with pytest.raises(TargetError, match=re.escape(f"{path}: {field}: ")) as caught:
        load_target(path, tmp_path)
    assert message in str(caught.value)
    assert "http" not in str(caught.value)  # pydantic's web addresses never reach a person
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]


def test_pytest_options_and_node_ids_inside_the_repository_are_fine(tmp_path):
    tests = '["tests", "-k", "a or b", "-x", "--tb=short", "tests/t.py::test[1/2]", "-p", "no:x"]'
    text = GOOD.replace('"beta/*.py"]', f'"beta/*.py"]\ntests = {tests}\nheld_out = ["held"]')
    config = load_target(write(tmp_path, "beta", text), tmp_path).config
    assert config.tests[2] == "a or b" and config.held_out == ("held",)


def test_a_weights_budget_of_infinite_seconds_names_the_field(tmp_path):
    path = write(tmp_path, "pole", WEIGHTS.replace("stop_at = 500", "seconds = inf"))
    with pytest.raises(TargetError, match=re.escape(f"{path}: budget.seconds: ")):
        load_target(path, tmp_path)
    path = write(tmp_path, "pole", WEIGHTS.replace("stop_at = 500", "stop_at = nan"))
    with pytest.raises(TargetError, match=re.escape(f"{path}: budget.stop_at: ")):
        load_target(path, tmp_path)


def test_a_target_file_that_is_not_a_regular_file_is_refused_unread(tmp_path):
    fifo = tmp_path / "beta.toml"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    with pytest.raises(TargetError, match=re.escape(f"{fifo}: not a regular file")):
        load_target(fifo, tmp_path / "state")
    zero = tmp_path / "gamma.toml"
    zero.symlink_to("/dev/zero")  # endless
    with pytest.raises(TargetError, match=re.escape(f"{zero}: not a regular file")):
        load_target(zero, tmp_path / "state")


def test_a_target_file_that_is_not_utf8_names_the_byte(tmp_path):
    path = tmp_path / "beta.toml"
    path.write_bytes(GOOD.encode() + b"# caf\xe9\n")
    with pytest.raises(
        TargetError, match=re.escape(f"{path}: not UTF-8 text: invalid continuation")
    ):
        load_target(path, tmp_path / "state")


def test_the_target_file_limit_comes_from_the_environment(tmp_path, monkeypatch):
    path = write(tmp_path, "beta", GOOD)
    monkeypatch.setenv("NEUROMUTANT_MAX_TARGET_FILE", "100")
    with pytest.raises(TargetError, match=r"over the limit of 100 bytes for a target file"):
        load_target(path, tmp_path / "state")
    monkeypatch.setenv("NEUROMUTANT_MAX_TARGET_FILE", "-5")
    with pytest.raises(TargetError, match=r"\$NEUROMUTANT_MAX_TARGET_FILE='-5': expected a size"):
        load_target(path, tmp_path / "state")
