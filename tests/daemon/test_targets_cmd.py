"""`nmctl targets ...` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys


def nmctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli.main", *args], capture_output=True, text=True, timeout=60
    )


def test_add_writes_a_valid_file_that_list_and_show_read(tmp_path):
    repo = tmp_path / "bot"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    targets, state = tmp_path / "targets", tmp_path / "state"
    common = ["--targets", str(targets), "--state", str(state)]
    done = nmctl(
        "targets",
        "add",
        "bot",
        "--repo",
        str(repo),
        "--files",
        "bot/*.py",
        "--tests",
        "tests",
        "--every",
        "5m",
        *common,
    )
    assert done.returncode == 0, done.stderr
    assert (targets / "bot.toml").exists()
    listed = json.loads(nmctl("targets", "list", "--json", *common).stdout)
    assert listed["errors"] == {}
    assert listed["targets"]["bot"]["files"] == ["bot/*.py"]
    assert listed["targets"]["bot"]["repo_path"] == str(repo)
    shown = json.loads(nmctl("targets", "show", "bot", "--json", *common).stdout)
    assert shown["schedule"]["every"] == 300.0
    assert nmctl("targets", "check", *common).returncode == 0


def test_add_refuses_to_overwrite_and_a_non_repository(tmp_path):
    common = ["--targets", str(tmp_path / "t"), "--state", str(tmp_path / "s")]
    done = nmctl("targets", "add", "bot", "--repo", str(tmp_path), "--files", "x.py", *common)
    assert done.returncode == 1
    assert "is not a git repository" in done.stderr
    assert not (tmp_path / "t" / "bot.toml").exists()


def test_check_fails_on_a_broken_file_and_names_it(tmp_path):
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "bad.toml").write_text('name = "bad"\nrepo = "x"\nfiles = []\n')
    done = nmctl("targets", "check", "--targets", str(targets), "--state", str(tmp_path))
    assert done.returncode == 1
    assert f"INVALID  {targets / 'bad.toml'}: files:" in done.stdout


def test_an_unknown_target_gets_a_suggestion(tmp_path):
    done = nmctl("targets", "show", "alpah", "--state", str(tmp_path))
    assert done.returncode == 1
    assert "Did you mean 'alpha'?" in done.stderr


def test_show_and_list_a_weights_target(tmp_path):
    common = ["--state", str(tmp_path)]  # the shipped targets/ folder
    shown = json.loads(nmctl("targets", "show", "cartpole", "--json", *common).stdout)
    assert shown["kind"] == "weights" and shown["env"] == "CartPole-v1"
    assert shown["evolution"]["method"] == "dualmixture"
    assert shown["evaluation"]["holdout"] >= 30
    text = nmctl("targets", "show", "cartpole", *common).stdout
    assert 'kind = "weights"' in text and "[evolution]" in text
    listed = nmctl("targets", "list", *common).stdout
    assert "env=CartPole-v1 weights=weights/policy.safetensors" in listed
