"""English words for whole numbers from 0 to 999 999."""

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TENS = ["", "ten", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def below_hundred(n):
    """Words for 0 to 99."""
    if n < 10:
        return ONES[n]
    tens, ones = divmod(n, 10)
    if ones == 0:
        return TENS[tens]
    return f"{TENS[tens]}-{ONES[ones]}"


def below_thousand(n):
    """Words for 0 to 999."""
    hundreds, rest = divmod(n, 100)
    if hundreds == 0:
        return below_hundred(rest)
    words = f"{ONES[hundreds]} hundred"
    return words if rest == 0 else f"{words} and {below_hundred(rest)}"


def to_words(n):
    """Words for 0 to 999 999."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"out of range: {n}")
    thousands, rest = divmod(n, 1000)
    if thousands == 0:
        return below_thousand(rest)
    words = f"{below_thousand(thousands)} thousand"
    if rest == 0:
        return words
    joiner = " and " if rest < 100 else " "
    return words + joiner + below_thousand(rest)


def ordinal_suffix(n):
    """The suffix of an ordinal written in digits: st, nd, rd or th."""
    if n % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
