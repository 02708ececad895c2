"""Word statistics of a text."""

import re
from collections import Counter

WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def words(text):
    """The words of the text, lower-cased, in order."""
    return WORD.findall(text.lower())


def frequencies(text):
    """How often each word occurs."""
    return Counter(words(text))


def top_words(text, n):
    """The n most frequent (word, count) pairs; ties in alphabetical order."""
    counts = frequencies(text)
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:n]


def longest_word(text):
    """The first of the longest words, or None for a text without words."""
    found = words(text)
    return min(found, key=len) if found else None


def average_length(text):
    """The mean length of the words; 0.0 without words."""
    found = words(text)
    return sum(len(word) for word in found) / len(found) if found else 0.0


def lexical_density(text):
    """Distinct words over all words; 0.0 without words."""
    found = words(text)
    return len(set(found)) / len(found) if found else 0.0
