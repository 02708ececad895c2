"""`nmctl trigger`, and `nmctl policy`: its old name, kept as an alias that says so."""

from __future__ import annotations

import json

from daemon.cli.main import build_parser, main


def test_trigger_explains_a_new_target(bot, capsys):
    assert main(["trigger", "calc", *bot.where]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("calc: trigger policy q-learning; hurdle ")
    assert "Last decisions, newest last:\n  none yet" in out
    assert err == ""


def test_policy_is_an_alias_with_a_one_line_deprecation_note(bot, capsys):
    assert main(["trigger", "calc", "--json", *bot.where]) == 0
    new = json.loads(capsys.readouterr().out)
    assert main(["policy", "calc", "--json", *bot.where]) == 0
    out, err = capsys.readouterr()
    old = json.loads(out)
    assert old.keys() == new.keys() and old["table"] == new["table"]
    assert err.count("\n") == 1 and "`nmctl policy` is now `nmctl trigger`" in err


def test_the_alias_is_not_advertised(capsys):
    help_text = build_parser().format_help()
    assert "trigger" in help_text
    assert "policy" not in help_text
