import pytest
from phone_format import area_code, digits_only, format_phone, is_valid, normalise, same_number


def test_digits_only():
    assert digits_only("(555) 123-4567") == "5551234567"


def test_normalise_plain():
    assert normalise("555.123.4567") == "5551234567"


def test_normalise_with_country_code():
    assert normalise("+1 555 123 4567") == "5551234567"


def test_normalise_rejects_short_number():
    with pytest.raises(ValueError):
        normalise("123-4567")


def test_normalise_rejects_other_country_code():
    with pytest.raises(ValueError):
        normalise("+4 555 123 4567")


def test_format_phone():
    assert format_phone("5551234567") == "(555) 123-4567"


def test_format_phone_with_country_code():
    assert format_phone("1-555-123-4567") == "(555) 123-4567"


def test_area_code():
    assert area_code("555 123 4567") == "555"


def test_is_valid():
    assert is_valid("555-234-5678")
    assert not is_valid("055-234-5678")
    assert not is_valid("555-134-5678")
    assert not is_valid("12345")


def test_same_number():
    assert same_number("(555) 123-4567", "+1 555 123 4567")
    assert not same_number("555-123-4567", "555-123-4568")
