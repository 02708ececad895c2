import pytest
from number_words import ordinal_suffix, to_words


def test_units():
    assert to_words(0) == "zero"
    assert to_words(7) == "seven"


def test_round_tens():
    assert to_words(10) == "ten"
    assert to_words(90) == "ninety"


def test_compound_tens():
    assert to_words(42) == "forty-two"


def test_teens():
    assert to_words(13) == "thirteen"
    assert to_words(11) == "eleven"


def test_hundreds():
    assert to_words(300) == "three hundred"
    assert to_words(305) == "three hundred and five"


def test_hundreds_with_teens():
    assert to_words(917) == "nine hundred and seventeen"


def test_thousands():
    assert to_words(2024) == "two thousand and twenty-four"
    assert to_words(21_500) == "twenty-one thousand five hundred"


def test_out_of_range():
    with pytest.raises(ValueError):
        to_words(-1)


def test_ordinal_suffix():
    assert [ordinal_suffix(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 112)] == [
        "st",
        "nd",
        "rd",
        "th",
        "th",
        "th",
        "th",
        "st",
        "th",
    ]
