"""Commit messages: a readable subject and body, then ``Neuromutant-*`` trailers.

`nmctl log` reads the trailers back; so do ``git log --grep`` and
``git interpret-trailers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TRAILER_PREFIX = "Neuromutant-"


@dataclass(frozen=True)
class Identity:
    """Author and committer of Neuromutant's commits."""

    name: str = "Neuromutant"
    email: str = "neuromutant@localhost"

    def env(self) -> dict[str, str]:
        """The git environment that sets both author and committer."""
        return {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
        }


def format_message(subject: str, body: str, trailers: dict[str, Any]) -> str:
    """A commit message: subject, body, and ``Neuromutant-Key: value`` trailers."""
    lines = [f"{TRAILER_PREFIX}{key}: {value}" for key, value in trailers.items()]
    parts = [subject.strip(), body.strip(), "\n".join(lines)]
    return "\n\n".join(p for p in parts if p) + "\n"


def parse_trailers(text: str) -> dict[str, str]:
    """The ``Neuromutant-*`` trailers of a message, without the prefix."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.startswith(TRAILER_PREFIX):
            found[key.removeprefix(TRAILER_PREFIX)] = value.strip()
    return found
