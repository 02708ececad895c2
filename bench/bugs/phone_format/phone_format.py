"""North American phone numbers: normalise, format and validate."""

DIGITS = "0123456789"


def digits_only(text):
    """The digits of the text, in order."""
    return "".join(ch for ch in text if ch in DIGITS)


def normalise(text):
    """The ten digits of a phone number written in any common way."""
    digits = digits_only(text)
    if len(digits) != 10:
        raise ValueError(f"not a phone number: {text!r}")
    return digits


def format_phone(text):
    """The number as (555) 123-4567."""
    digits = normalise(text)
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def area_code(text):
    """The first three digits of the number."""
    return normalise(text)[:3]


def is_valid(text):
    """Whether the text is a phone number whose area code and exchange do not start with 0 or 1."""
    try:
        digits = normalise(text)
    except ValueError:
        return False
    return digits[0] not in "01" and digits[3] not in "01"


def same_number(a, b):
    """Whether two texts are the same phone number."""
    try:
        return normalise(a) == normalise(b)
    except ValueError:
        return False
