import pytest
from config_parser import ConfigError, get_bool, get_int, parse, parse_line

TEXT = """
# a comment
name = demo

[server]
Port = 8080
debug = yes

; another comment
[empty]
"""


def test_parse_line_kinds():
    assert parse_line("  # note") is None
    assert parse_line("[ db ]") == ("section", "db", None)
    assert parse_line("Host = example.org") == ("pair", "host", "example.org")


def test_parse_line_keeps_equals_in_value():
    assert parse_line("url = a=b") == ("pair", "url", "a=b")


def test_parse_line_rejects_garbage():
    with pytest.raises(ConfigError):
        parse_line("just words")


def test_parse_sections():
    assert sorted(parse(TEXT)) == ["default", "empty", "server"]
    assert parse(TEXT)["empty"] == {}


def test_parse_values():
    assert parse(TEXT)["server"] == {"port": "8080", "debug": "yes"}


def test_parse_default_section():
    assert parse(TEXT)["default"] == {"name": "demo"}


def test_parse_rejects_duplicate_keys():
    with pytest.raises(ConfigError):
        parse("[s]\na = 1\nb = 2\na = 3\n")


def test_get_int():
    assert get_int(parse(TEXT), "server", "port") == 8080
    assert get_int({}, "server", "port", 80) == 80


def test_get_bool():
    data = {"s": {"a": "Yes", "b": "off", "c": "maybe"}}
    assert get_bool(data, "s", "a") is True
    assert get_bool(data, "s", "b") is False
    assert get_bool(data, "s", "z", True) is True
    with pytest.raises(ConfigError):
        get_bool(data, "s", "c")


def test_get_bool_from_text():
    assert get_bool(parse(TEXT), "server", "debug") is True
