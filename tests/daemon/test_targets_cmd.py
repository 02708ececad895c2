"""`nmctl targets ...` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

from daemon.paths import PROJECT_ROOT


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
    assert shown["evolution"]["method"] == "cmaes"
    assert shown["evaluation"]["holdout"] >= 30
    text = nmctl("targets", "show", "cartpole", *common).stdout
    assert 'kind = "weights"' in text and "[evolution]" in text
    listed = nmctl("targets", "list", *common).stdout
    assert "env=CartPole-v1 weights=weights/policy.safetensors" in listed


def test_add_refuses_a_bad_name_in_one_line_and_writes_nothing(tmp_path):
    repo = tmp_path / "bot"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    targets = tmp_path / "targets"
    common = ["--repo", str(repo), "--files", "bot/*.py", "--targets", str(targets)]
    common += ["--state", str(tmp_path / "state")]
    rule = "use lower-case letters, digits, '-' or '_', starting with a letter"
    done = nmctl("targets", "add", "T042", *common)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [f"nmctl: name 'T042': {rule}, at most 63 characters"]
    scripted = nmctl("targets", "add", "../../T042", "--json", *common)
    assert json.loads(scripted.stdout)["error"].startswith(f"name '../../T042': {rule}")
    assert "http" not in done.stderr + scripted.stdout + scripted.stderr
    assert not targets.exists() and not (tmp_path / "T042.toml").exists()
    assert rule in " ".join(nmctl("targets", "add", "--help").stdout.split())


def test_add_names_the_option_of_a_path_outside_the_repository(tmp_path):
    repo = tmp_path / "bot"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    where = ["--targets", str(tmp_path / "targets"), "--state", str(tmp_path / "state")]
    done = nmctl("targets", "add", "bot", "--repo", str(repo), "--files", "../../etc/*", *where)
    assert done.returncode == 1
    assert done.stderr.startswith("nmctl: --files: '../../etc/*' is outside the repository")
    done = nmctl(
        "targets", "add", "bot", "--repo", str(repo), "--files", "a.py", "--tests", "/etc", *where
    )
    assert done.stderr.startswith("nmctl: --tests: '/etc' is outside the repository")
    assert "http" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "targets").exists()


def test_show_prints_every_setting_and_it_reads_back(tmp_path):
    from daemon.cli.targets import effective
    from daemon.registry import load_registry

    registry = load_registry(PROJECT_ROOT / "targets", tmp_path)
    for name in ("alpha", "cartpole", "pilot"):
        config = registry.targets[name].config
        text = effective(config)
        assert type(config).model_validate(tomllib.loads(text)) == config
    text = nmctl("targets", "show", "alpha", "--state", str(tmp_path)).stdout
    for default in ("[search]", "patience = 50", "[author]", "pids = 256", "held_out = []"):
        assert default in text  # defaults the target file leaves out


def test_check_refuses_hostile_values_naming_file_and_field(tmp_path):
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "bad.toml").write_text(
        'name = "bad"\nrepo = "x"\nfiles = ["x/*.py"]\n[sandbox]\ncpus = 1000\n'
    )
    (targets / "worse.toml").write_text('name = "worse"\nrepo = "x"\nfiles = ["../../etc/*"]\n')
    before = sorted((p.name, p.read_bytes()) for p in targets.iterdir())
    done = nmctl("targets", "check", "--targets", str(targets), "--state", str(tmp_path / "s"))
    assert done.returncode == 1
    assert f"INVALID  {targets / 'bad.toml'}: sandbox.cpus: expected 0.01 to 64" in done.stdout
    assert f"INVALID  {targets / 'worse.toml'}: files: '../../etc/*' is outside" in done.stdout
    assert sorted((p.name, p.read_bytes()) for p in targets.iterdir()) == before


def test_check_warns_of_more_cores_than_this_machine_has(tmp_path, monkeypatch, capsys):
    from daemon.cli.main import main

    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "big.toml").write_text(
        'name = "big"\nrepo = "x"\nfiles = ["x/*.py"]\n[sandbox]\ncpus = 4\n'
    )
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    where = ["--targets", str(targets), "--state", str(tmp_path / "s")]
    assert main(["targets", "check", *where]) == 0
    assert "warning  big: sandbox.cpus = 4 is more than this machine's 2 cores" in (
        capsys.readouterr().out
    )
