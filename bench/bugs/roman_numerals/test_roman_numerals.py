import pytest
from roman_numerals import add, from_roman, is_canonical, to_roman


def test_to_roman_simple():
    assert to_roman(3) == "III"
    assert to_roman(1666) == "MDCLXVI"


def test_to_roman_subtractive():
    assert to_roman(1994) == "MCMXCIV"


def test_to_roman_out_of_range():
    with pytest.raises(ValueError):
        to_roman(0)


def test_from_roman_additive():
    assert from_roman("MDCLXVI") == 1666
    assert from_roman("viii") == 8


def test_from_roman_subtractive():
    assert from_roman("IV") == 4
    assert from_roman("MCMXCIV") == 1994


def test_from_roman_bad_symbol():
    with pytest.raises(ValueError):
        from_roman("XIQ")


def test_canonical():
    assert is_canonical("XIV")
    assert not is_canonical("IIII")


def test_not_canonical_garbage():
    assert not is_canonical("ABC")


def test_add():
    assert add("XII", "III") == "XV"


def test_add_subtractive():
    assert add("IX", "XL") == "XLIX"
