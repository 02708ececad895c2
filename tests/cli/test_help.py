"""Every `nmctl` command explains itself, and every one can answer in JSON."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from daemon.cli.main import build_parser


def leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command words, parser) of every command that runs something."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, sub in subs[0].choices.items():
        yield from leaves(sub, (*path, name))


COMMANDS = list(leaves(build_parser()))
IDS = [" ".join(words) for words, _ in COMMANDS]


def test_the_command_groups_are_all_there():
    assert set(IDS) >= {
        "targets list",
        "targets add",
        "cycle",
        "log",
        "history",
        "rollback",
        "status",
        "pause",
        "resume",
        "reload",
        "trigger",
        "policy",
        "sandbox check",
        "service install",
    }


@pytest.mark.parametrize(("words", "parser"), COMMANDS, ids=IDS)
def test_every_command_has_a_description_help_on_its_options_and_json(words, parser):
    assert parser.description and len(parser.description) > 20
    options = {o for a in parser._actions for o in a.option_strings}
    assert "--json" in options
    for action in parser._actions:
        assert action.help, f"nmctl {' '.join(words)}: {action.dest} has no help"


def test_help_runs_from_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "daemon.cli.main", "rollback", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert "--to COMMIT" in done.stdout and "--json" in done.stdout and "--state DIR" in done.stdout
