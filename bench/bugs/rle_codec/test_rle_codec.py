import pytest
from rle_codec import decode, encode, longest_run, ratio, runs


def test_runs():
    assert runs("aaabcc") == [("a", 3), ("b", 1), ("c", 2)]


def test_runs_empty():
    assert runs("") == []


def test_encode():
    assert encode("aaabcc") == "3a1b2c"


def test_decode_single_digit_counts():
    assert decode("3a1b2c") == "aaabcc"


def test_decode_without_counts():
    assert decode("ab") == "ab"


def test_decode_multi_digit_count():
    assert decode("12x") == "x" * 12


def test_round_trip_long_run():
    text = "z" * 25 + "yy"
    assert decode(encode(text)) == text


def test_decode_trailing_count():
    with pytest.raises(ValueError):
        decode("3a4")


def test_ratio():
    assert ratio("aaaa") == 0.5
    assert ratio("") == 1.0


def test_longest_run():
    assert longest_run("abbbcc") == ("b", 3)
    assert longest_run("") is None
