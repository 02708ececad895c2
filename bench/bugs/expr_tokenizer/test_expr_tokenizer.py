import pytest
from expr_tokenizer import TokenError, calculate, evaluate_rpn, to_rpn, tokenize


def test_tokenize_compact():
    assert tokenize("12+3*(4-1)") == [12, "+", 3, "*", "(", 4, "-", 1, ")"]


def test_tokenize_with_spaces():
    assert tokenize("12 * 3") == [12, "*", 3]


def test_tokenize_tabs():
    assert tokenize("1\t+\t2") == [1, "+", 2]


def test_tokenize_rejects_unknown_character():
    with pytest.raises(TokenError):
        tokenize("1$2")


def test_to_rpn_precedence():
    assert to_rpn([1, "+", 2, "*", 3]) == [1, 2, 3, "*", "+"]


def test_to_rpn_left_associative():
    assert to_rpn([8, "-", 3, "-", 2]) == [8, 3, "-", 2, "-"]


def test_to_rpn_parentheses():
    assert to_rpn(["(", 1, "+", 2, ")", "*", 3]) == [1, 2, "+", 3, "*"]


def test_evaluate_rpn():
    assert evaluate_rpn([7, 2, "/"]) == 3.5
    assert evaluate_rpn([2, 3, 4, "*", "+"]) == 14


def test_calculate_compact():
    assert calculate("2*(3+4)") == 14


def test_calculate_spaced():
    assert calculate("10 - 4 - 3") == 3
