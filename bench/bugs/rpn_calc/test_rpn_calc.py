import pytest
from rpn_calc import apply_binary, evaluate, is_number


def test_is_number():
    assert is_number("3")
    assert is_number("-2.5")
    assert not is_number("+x")


def test_addition_and_multiplication():
    assert evaluate("3 4 + 2 *") == 14


def test_subtraction_order():
    assert evaluate("10 4 -") == 6


def test_division_is_exact():
    assert evaluate("7 2 /") == 3.5


def test_division_of_multiples():
    assert evaluate("8 2 /") == 4


def test_division_by_zero():
    with pytest.raises(ZeroDivisionError):
        evaluate("1 0 /")


def test_power():
    assert evaluate("2 10 ^") == 1024


def test_unary():
    assert evaluate("9 sqrt neg") == -3


def test_floats():
    assert evaluate("1.5 2 *") == 3.0


def test_apply_binary_direct():
    assert apply_binary("/", 1, 4) == 0.25


def test_stack_errors():
    with pytest.raises(ValueError):
        evaluate("1 +")
    with pytest.raises(ValueError):
        evaluate("1 2")
    with pytest.raises(ValueError):
        evaluate("1 2 %")
