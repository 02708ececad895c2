"""How `nmctl` fails: one line, a JSON object for scripts, the traceback on request."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from daemon.cli.main import main
from daemon.errors import Error
from policies.codemods import MutationError
from policies.errors import WeightsFileError
from sandbox.errors import BackendUnavailable


def nmctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli.main", *args], capture_output=True, text=True, timeout=60
    )


def failing(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    """Make `nmctl log` raise `exc`."""

    def cmd_log(args):
        raise exc

    monkeypatch.setattr("daemon.cli.history.cmd_log", cmd_log)


def test_an_error_is_one_line_on_stderr_and_exit_1(bot):
    done = nmctl("targets", "show", "calx", *bot.where)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("nmctl: no target named 'calx'")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_debug_prints_the_traceback_instead(bot):
    done = nmctl("--debug", "targets", "show", "calx", *bot.where)
    assert done.returncode == 1
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert "daemon.errors.UnknownTarget: no target named 'calx'" in done.stderr
    assert "nmctl: " not in done.stderr


def test_json_gets_an_error_object_on_stdout(bot, capsys):
    assert main(["targets", "show", "calx", "--json", *bot.where]) == 1
    out, err = capsys.readouterr()
    answer = json.loads(out)
    assert answer["ok"] is False and answer["error"].startswith("no target named 'calx'")
    assert err.startswith("nmctl: no target named 'calx'")


@pytest.mark.parametrize(
    "exc",
    [
        BackendUnavailable("docker: the daemon does not answer"),
        WeightsFileError("w.pt", "truncated"),
        MutationError("no such site"),
        Error("the daemon says no"),
    ],
    ids=["sandbox", "weights-file", "mutation", "daemon"],
)
def test_every_error_root_is_one_line(bot, capsys, monkeypatch, exc):
    failing(monkeypatch, exc)
    assert main(["log", "calc", "--json", *bot.where]) == 1
    out, err = capsys.readouterr()
    assert err == f"nmctl: {exc}\n"
    assert json.loads(out) == {"ok": False, "error": str(exc)}


def test_a_message_of_several_lines_is_one_line(bot, capsys, monkeypatch):
    failing(monkeypatch, Error("bad file:\n  files: empty\n  tests: missing"))
    assert main(["log", "calc", *bot.where]) == 1
    assert capsys.readouterr().err == "nmctl: bad file:; files: empty; tests: missing\n"


def test_ctrl_c_exits_130_quietly(bot, capsys, monkeypatch):
    failing(monkeypatch, KeyboardInterrupt())
    assert main(["log", "calc", "--json", *bot.where]) == 130
    assert capsys.readouterr() == ("", "")


def test_a_bug_keeps_its_traceback(bot, monkeypatch):
    failing(monkeypatch, ZeroDivisionError("a bug"))
    with pytest.raises(ZeroDivisionError):
        main(["log", "calc", *bot.where])


def test_cycle_without_a_daemon_says_how_to_proceed(bot, monkeypatch, capsys):
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    assert main(["cycle", "calc", "--json", *bot.where]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("nmctl: nmd is not running") and "nmctl cycle calc --local" in err
    assert json.loads(out)["ok"] is False
