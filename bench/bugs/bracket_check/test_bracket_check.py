from bracket_check import bracket_count, is_balanced, max_depth, strip_brackets


def test_balanced_simple():
    assert is_balanced("(a + b) * [c]")
    assert is_balanced("")


def test_unclosed():
    assert not is_balanced("((x)")


def test_closed_before_opened():
    assert not is_balanced(")(")


def test_nested_kinds():
    assert is_balanced("{[()()]}")


def test_wrong_kind_of_closer():
    assert not is_balanced("(]")


def test_crossed_pairs():
    assert not is_balanced("([)]")


def test_max_depth():
    assert max_depth("a(b[c]{d(e)})") == 3
    assert max_depth("none") == 0


def test_strip_brackets():
    assert strip_brackets("f(x[1])") == "fx1"


def test_bracket_count():
    assert bracket_count("(a[b]) ()") == {"()": 4, "[]": 2}
