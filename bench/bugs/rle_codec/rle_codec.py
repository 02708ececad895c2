"""Run-length encoding of text: "aaab" becomes "3a1b" and back."""


def runs(text):
    """The runs of the text as (character, count) pairs, in order."""
    result = []
    for ch in text:
        if result and result[-1][0] == ch:
            result[-1] = (ch, result[-1][1] + 1)
        else:
            result.append((ch, 1))
    return result


def encode(text):
    """Each run written as its count followed by its character."""
    return "".join(f"{count}{ch}" for ch, count in runs(text))


def decode(code):
    """The text that `encode` gave `code` for; a character without a count stands once."""
    out = []
    digits = ""
    for ch in code:
        if ch.isdigit():
            digits = ch
        else:
            out.append(ch * int(digits or "1"))
            digits = ""
    if digits:
        raise ValueError(f"count without a character at the end of {code!r}")
    return "".join(out)


def ratio(text):
    """Encoded length over original length; 1.0 for the empty text."""
    if not text:
        return 1.0
    return len(encode(text)) / len(text)


def longest_run(text):
    """The (character, count) of the first longest run, or None for the empty text."""
    best = None
    for ch, count in runs(text):
        if best is None or count > best[1]:
            best = (ch, count)
    return best
