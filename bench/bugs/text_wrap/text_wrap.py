"""Wrapping, truncating, centring and justifying plain text."""


def wrap(text, width):
    """The words of the text in lines of at most `width` characters (longer words alone)."""
    lines = []
    current = ""
    for word in text.split():
        if not current:
            current = word
        elif len(current) + 1 + len(word) < width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def fill(text, width):
    """The wrapped lines joined by newlines."""
    return "\n".join(wrap(text, width))


def truncate(text, width, suffix="..."):
    """The text cut to `width` characters, ending with `suffix` when cut."""
    if len(text) <= width:
        return text
    return text[: max(0, width - len(suffix))] + suffix


def center(line, width, pad=" "):
    """The line centred in `width` characters; an odd extra pad goes right."""
    total = max(0, width - len(line))
    left = total // 2
    return pad * left + line + pad * (total - left)


def justify(line, width):
    """The line widened to `width` by spreading spaces between its words, leftmost first."""
    words = line.split()
    if len(words) < 2:
        return line.ljust(width)
    gaps = len(words) - 1
    spaces = width - sum(len(word) for word in words)
    base, extra = divmod(spaces, gaps)
    out = ""
    for i, word in enumerate(words[:-1]):
        out += word + " " * (base + (1 if i < extra else 0))
    return out + words[-1]
