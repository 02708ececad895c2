"""Roman numerals: convert integers to numerals and back, and check a numeral's form."""

NUMERALS = [
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
]
VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def to_roman(number):
    """The numeral of an integer from 1 to 3999."""
    if not 0 < number < 4000:
        raise ValueError(f"no Roman numeral for {number}")
    parts = []
    for value, symbol in NUMERALS:
        while number >= value:
            parts.append(symbol)
            number -= value
    return "".join(parts)


def from_roman(text):
    """The value of a numeral; a smaller symbol before a larger one is subtracted."""
    total = 0
    for i, symbol in enumerate(text.upper()):
        if symbol not in VALUES:
            raise ValueError(f"{symbol!r} is not a Roman digit")
        value = VALUES[symbol]
        if i + 1 < len(text) and VALUES.get(text[i + 1].upper(), 0) > value:
            total += value
        else:
            total += value
    return total


def is_canonical(text):
    """Whether the numeral is written the standard way (IV, not IIII)."""
    try:
        return to_roman(from_roman(text)) == text.upper()
    except ValueError:
        return False


def add(a, b):
    """The sum of two numerals, as a numeral."""
    return to_roman(from_roman(a) + from_roman(b))
