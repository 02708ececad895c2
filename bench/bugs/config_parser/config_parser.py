"""A reader for INI-like configuration text: [section] headers and key = value lines."""

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """A line that is neither a section, a pair, a comment nor blank."""


def parse_line(line):
    """("section", name, None), ("pair", key, value), or None for blanks and comments."""
    line = line.strip()
    if not line or line.startswith(("#", ";")):
        return None
    if line.startswith("[") and line.endswith("]"):
        return ("section", line[1:-1].strip(), None)
    if "=" not in line:
        raise ConfigError(f"cannot read {line!r}")
    key, value = line.split("=", 1)
    return ("pair", key.strip().lower(), value.strip())


def parse(text):
    """Sections as dicts of keys to string values; keys before any section go to "default"."""
    data = {}
    section = "default"
    for entry in map(parse_line, text.splitlines()):
        if entry is None:
            continue
        kind, key, value = entry
        if kind == "section":
            section = key
            data.setdefault(section, {})
        elif key in data.get(section, {}):
            raise ConfigError(f"{section}.{key} is set twice, the second time to {value!r}")
        else:
            data.setdefault(section, {})[key] = key
    return data


def get_int(data, section, key, default=0):
    """An integer value, or `default` when absent."""
    value = data.get(section, {}).get(key)
    return default if value is None else int(value)


def get_bool(data, section, key, default=False):
    """A yes/no value, or `default` when absent."""
    value = data.get(section, {}).get(key)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise ConfigError(f"{section}.{key} is not a yes/no value: {value!r}")
