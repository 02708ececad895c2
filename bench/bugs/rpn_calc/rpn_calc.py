"""A reverse Polish notation calculator: "3 4 + 2 *" is 14."""

import math

BINARY = {"+", "-", "*", "/", "^"}
UNARY = {"neg", "sqrt"}


def is_number(token):
    """Whether the token reads as a number."""
    try:
        float(token)
    except ValueError:
        return False
    return True


def apply_binary(op, a, b):
    """a op b."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            raise ZeroDivisionError("division by zero")
        return a // b
    if op == "^":
        return a**b
    raise ValueError(f"unknown operator {op!r}")


def apply_unary(op, a):
    """op(a)."""
    if op == "neg":
        return -a
    if a < 0:
        raise ValueError("square root of a negative number")
    return math.sqrt(a)


def evaluate(expression):
    """The value of a whitespace-separated RPN expression."""
    stack = []
    for token in expression.split():
        if is_number(token):
            stack.append(int(token) if token.lstrip("-").isdigit() else float(token))
        elif token in BINARY:
            if len(stack) < 2:
                raise ValueError(f"{token!r} needs two operands")
            b, a = stack.pop(), stack.pop()
            stack.append(apply_binary(token, a, b))
        elif token in UNARY:
            if not stack:
                raise ValueError(f"{token!r} needs an operand")
            stack.append(apply_unary(token, stack.pop()))
        else:
            raise ValueError(f"unknown token {token!r}")
    if len(stack) != 1:
        raise ValueError(f"{len(stack)} values left on the stack")
    return stack[0]
