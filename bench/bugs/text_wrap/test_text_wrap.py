from text_wrap import center, fill, justify, truncate, wrap


def test_wrap_short_text():
    assert wrap("hello world", 40) == ["hello world"]


def test_wrap_breaks_lines():
    assert wrap("the quick brown fox jumps", 10) == ["the quick", "brown fox", "jumps"]


def test_wrap_line_of_exact_width():
    assert wrap("aaaa bbbbb cc", 10) == ["aaaa bbbbb", "cc"]


def test_wrap_long_word_alone():
    assert wrap("a extraordinarily b", 5) == ["a", "extraordinarily", "b"]


def test_wrap_empty():
    assert wrap("   ", 10) == []


def test_fill():
    assert fill("one two three four", 9) == "one two\nthree\nfour"


def test_truncate():
    assert truncate("hello world", 8) == "hello..."
    assert truncate("short", 8) == "short"


def test_center():
    assert center("ab", 7, "*") == "**ab***"


def test_justify():
    assert justify("a bb ccc", 13) == "a    bb   ccc"


def test_justify_single_word():
    assert justify("word", 6) == "word  "
