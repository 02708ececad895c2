import pytest
from version_compare import bump, compare, latest, parse, satisfies


def test_parse():
    assert parse("1.10.2") == (1, 10, 2)


def test_parse_rejects_garbage():
    with pytest.raises(ValueError):
        parse("1.x")


def test_compare_major():
    assert compare("1.9", "2.0") == -1
    assert compare("3.0", "2.9") == 1


def test_compare_equal():
    assert compare("1.2.3", "1.2.3") == 0


def test_compare_later_parts():
    assert compare("1.2", "1.10") == -1
    assert compare("1.2.5", "1.2.4") == 1


def test_compare_prefix_is_older():
    assert compare("1.2", "1.2.1") == -1


def test_bump():
    assert bump("1.4.2") == "1.4.3"
    assert bump("1.4.2", "minor") == "1.5.0"
    assert bump("1.4", "major") == "2.0.0"


def test_latest():
    assert latest(["1.2", "1.10", "1.9.9"]) == "1.10"


def test_satisfies():
    assert satisfies("1.4", "1.2", "2.0")
    assert not satisfies("2.0", "1.2", "2.0")
    assert not satisfies("1.1.9", "1.2")
