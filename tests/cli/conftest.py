"""A small registered code target on a real git repository, for `nmctl` tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from daemon.ledger import Identity, Ledger, format_message

BUGGY = "def add(a, b):\n    return a - b\n"


@dataclass
class Bot:
    """A target ``calc``: its target folder, state directory and repository."""

    targets: Path
    state: Path
    repo: Path

    @property
    def where(self) -> list[str]:
        """The --targets and --state options that find it."""
        return ["--targets", str(self.targets), "--state", str(self.state)]

    def commit(self, content: str, cycle: int) -> str:
        """A Neuromutant commit of calc/ops.py, as a cycle makes one."""
        ledger = Ledger(self.repo)
        try:
            return ledger.commit_file(
                "calc/ops.py",
                content,
                format_message(
                    f"calc: cycle {cycle}",
                    "Operator: arith-swap at calc/ops.py:2",
                    {
                        "Target": "calc",
                        "Cycle": cycle,
                        "Operator": "arith-swap",
                        "Site": "calc/ops.py:2",
                        "Score": "0.500 -> 1.000",
                    },
                ),
            )
        finally:
            ledger.close()

    def ops(self) -> str:
        """The file the commits change, as it is on disk."""
        return (self.repo / "calc" / "ops.py").read_text()


@pytest.fixture
def bot(tmp_path: Path) -> Bot:
    example = tmp_path / "example"
    (example / "calc").mkdir(parents=True)
    (example / "tests").mkdir()
    (example / "calc" / "__init__.py").write_text("")
    (example / "calc" / "ops.py").write_text(BUGGY)
    (example / "tests" / "test_ops.py").write_text("from calc.ops import add\n")
    repo = tmp_path / "repo"
    Ledger.create_from(repo, example, "calc", Identity()).close()
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "calc.toml").write_text(
        f'name = "calc"\nrepo = "{repo}"\nfiles = ["calc/*.py"]\ntests = ["tests"]\n'
    )
    return Bot(targets, tmp_path / "state", repo)
