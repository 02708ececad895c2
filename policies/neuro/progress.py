"""A progress bar for a run in a terminal; one line per generation elsewhere."""

from __future__ import annotations

import sys
from typing import TextIO

from .evolve import GenerationRecord

WIDTH = 24


class TerminalProgress:
    """An `evolve` observer: ``evolve(..., observers=[TerminalProgress(total)])``."""

    def __init__(self, total: int | None = None, stream: TextIO | None = None) -> None:
        """`total` generations, when known, for the bar; `stream` defaults to stderr."""
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()

    def __call__(self, record: GenerationRecord) -> None:
        """Draw the bar (a terminal) or print a line (a log)."""
        gen = record.generation
        if self.total:
            done = min(1.0, gen / self.total)
            filled = int(done * WIDTH)
            bar = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {gen}/{self.total}"
        else:
            bar = f"gen {gen}"
        escape = record.stats.get("escape_p")
        extra = f" p_esc {escape:.3f}" if escape is not None else ""
        text = (
            f"{bar} best {record.best:8.2f} mean {record.mean:8.2f}{extra} "
            f"steps {record.env_steps:,} {record.wall_time:6.1f}s"
        )
        if self.tty:
            end = "\n" if self.total and gen >= self.total else ""
            self.stream.write(f"\r\x1b[2K{text}{end}")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
