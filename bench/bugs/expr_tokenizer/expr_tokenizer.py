"""A tokenizer and a shunting-yard evaluator for integer arithmetic: "2 * (3 + 4)"."""

OPERATORS = {"+": 1, "-": 1, "*": 2, "/": 2}
WHITESPACE = " \t"


class TokenError(ValueError):
    """A character that starts no token."""


def tokenize(text):
    """Integers, operators and parentheses of the text; blanks are skipped."""
    tokens = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit():
            j = i
            while j < len(text) and text[j].isdigit():
                j += 1
            tokens.append(int(text[i:j]))
            i = j
            continue
        if ch in OPERATORS or ch in "()":
            tokens.append(ch)
        elif ch in WHITESPACE:
            raise TokenError(f"unexpected {ch!r} at {i}")
        i += 1
    return tokens


def to_rpn(tokens):
    """The tokens in reverse Polish order; operators of equal precedence go left to right."""
    output, stack = [], []
    for token in tokens:
        if isinstance(token, int):
            output.append(token)
        elif token == "(":
            stack.append(token)
        elif token == ")":
            while stack and stack[-1] != "(":
                output.append(stack.pop())
            stack.pop()
        else:
            while stack and stack[-1] != "(" and OPERATORS[stack[-1]] >= OPERATORS[token]:
                output.append(stack.pop())
            stack.append(token)
    output.extend(reversed(stack))
    return output


def evaluate_rpn(rpn):
    """The value of a reverse Polish token list; / divides exactly."""
    stack = []
    for token in rpn:
        if isinstance(token, int):
            stack.append(token)
            continue
        right, left = stack.pop(), stack.pop()
        if token == "+":
            stack.append(left + right)
        elif token == "-":
            stack.append(left - right)
        elif token == "*":
            stack.append(left * right)
        else:
            stack.append(left / right)
    return stack[0]


def calculate(text):
    """The value of an infix expression."""
    return evaluate_rpn(to_rpn(tokenize(text)))
