"""One structured line per event on stderr: what journald and a person both read."""

from __future__ import annotations

import logging
import sys
import time


class LineFormatter(logging.Formatter):
    """``2026-01-01T12:00:00Z level=info logger=sandbox.reaper msg="..."`` lines."""

    def format(self, record: logging.LogRecord) -> str:  # noqa: D102
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        message = record.getMessage().replace('"', '\\"')
        line = f'{stamp} level={record.levelname.lower()} logger={record.name} msg="{message}"'
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup(verbose: bool = False) -> None:
    """Send logs to stderr as structured lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("urllib3", "docker", "apscheduler", "watchdog"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
