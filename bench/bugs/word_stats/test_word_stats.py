from word_stats import (
    average_length,
    frequencies,
    lexical_density,
    longest_word,
    top_words,
    words,
)

TEXT = "The cat sat on the mat. The dog didn't."


def test_words():
    assert words(TEXT) == ["the", "cat", "sat", "on", "the", "mat", "the", "dog", "didn't"]


def test_frequencies():
    assert frequencies(TEXT)["the"] == 3


def test_top_words():
    assert top_words(TEXT, 2) == [("the", 3), ("cat", 1)]


def test_longest_word():
    assert longest_word(TEXT) == "didn't"


def test_longest_word_first_of_ties():
    assert longest_word("ab cd ef") == "ab"
    assert longest_word("to be or not") == "not"


def test_longest_word_empty():
    assert longest_word("...") is None


def test_average_length():
    assert average_length("ab abcd") == 3.0
    assert average_length("") == 0.0


def test_lexical_density():
    assert lexical_density("a a b b") == 0.5
