"""Run a target's tests once, with the job's overlays: ``python -m nmrunners.pytest_run JOB``.

Writes the session's result document to the job's result path. The exit status
is pytest's, so a plain reading of the job's outcome is already meaningful.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from . import overlay
from .pytest_session import run_session


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(args[0]).read_text())
    payload = job["payload"]
    src = payload["src"]
    sys.path.insert(0, src)
    overlay.install(src, job.get("overlays", {}))
    scratch = os.getcwd()
    must_pass = frozenset(payload.get("must_pass", ()))
    result = run_session(
        src, payload.get("args", []), scratch, must_pass=must_pass, coverage=payload.get("coverage")
    )
    tmp = job["result_path"] + ".part"
    Path(tmp).write_text(json.dumps(result))
    os.replace(tmp, job["result_path"])
    return result["exit_status"] if isinstance(result["exit_status"], int) else 3


if __name__ == "__main__":
    sys.exit(main())
