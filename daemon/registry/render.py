"""A target as TOML text: what `nmctl targets add` writes and `show` prints."""

from __future__ import annotations

import re
from typing import Any

from daemon.registry.load import TargetConfig


def render(config: TargetConfig) -> str:
    """A target as TOML text (`nmctl targets add` and `show`): what reads back to `config`."""

    def value(v: Any) -> str:
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
        return repr(v)

    def key(k: str) -> str:
        return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else value(k)

    def table(name: str, data: dict[str, Any]) -> list[str]:
        plain = {k: v for k, v in data.items() if not isinstance(v, dict)}
        lines = ["", f"[{name}]", *(f"{k} = {value(v)}" for k, v in plain.items())]
        for key, v in data.items():
            if isinstance(v, dict):
                lines += table(f"{name}.{key}", v)
        return lines

    data = config.model_dump(exclude_defaults=True, exclude_none=True, exclude={"schedule"})
    free = {"env_kwargs", "network_kwargs"}  # arguments, not tables of ours: written inline
    lines = [
        f"{key} = {value(v)}" for key, v in data.items() if not isinstance(v, dict) or key in free
    ]
    schedule = config.schedule
    if schedule.cron:
        lines.append(f"schedule = {{ cron = {value(schedule.cron)} }}")
    else:
        lines.append(f'schedule = {{ every = "{int(schedule.every)}s" }}')
    for key, v in data.items():
        if isinstance(v, dict) and key not in free:
            lines += table(key, v)
    return "\n".join(lines) + "\n"
