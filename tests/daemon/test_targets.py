"""Target files: validated into frozen specs, with errors naming file and field."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from daemon.paths import PROJECT_ROOT
from daemon.targets import TargetError, UnknownTarget, load_registry, load_target, render

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
