"""A weights target's run folder, ``state/runs/NAME``: resumable runs, finished runs, a genome.

A run is checkpointed every generation in ``head-<HEAD>``: a cycle interrupted
on the same commit resumes there if its settings match (the fingerprint);
runs of other commits can no longer be resumed and are removed. A finished run
keeps its curve and run file as ``cycle-N`` (the last `KEEP_RUNS`). Between
cycles, the genome whose weights were last committed and verified (its mutator
and compatibility networks included) is kept in ``genome.safetensors``: the
next run starts from the committed weights with that genome's evolved
mutator, so mutators keep evolving across cycles. See docs/weights.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from policies.errors import WeightsFileError
from policies.neuro.evolve import CHECKPOINT
from policies.neuro.genome import Genome, write_atomic

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
GENOME_FILE = "genome.safetensors"
KEEP_RUNS = 20
"""Finished run directories (``cycle-N``: curve and run file) kept per target."""
RUN_VERSION = 1


class RunFolder:
    """The runs of one weights target."""

    def __init__(self, root: Path, target: str) -> None:
        self.root, self.target = root, target

    @property
    def genome_path(self) -> Path:
        """Where the last verified commit's genome is kept."""
        return self.root / GENOME_FILE

    def fingerprint(self, settings: dict[str, Any], flat: np.ndarray | None) -> str:
        """What a resumed run must share with the interrupted one (the budget may differ).

        `settings` are the target's evolution-relevant settings; the committed
        weights (`flat`) and the kept genome are added here.
        """
        doc = {
            **settings,
            "weights": None if flat is None else hashlib.sha256(flat.tobytes()).hexdigest(),
            "ancestor": _digest(self.genome_path) if self.genome_path.is_file() else None,
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()

    def open(self, head: str, number: int, fingerprint: str, seed: int) -> tuple[Path, int]:
        """HEAD's run directory and its seed: resumed if the fingerprint fits, else afresh."""
        path = self.root / f"head-{head[:12]}"
        for other in self.root.glob("head-*"):
            if other != path:
                log.info(
                    "%s: discarding %s, an interrupted run of another commit", self.target, other
                )
                shutil.rmtree(other, ignore_errors=True)
        try:
            info = json.loads((path / RUN_FILE).read_text())
            if info.get("fingerprint") == fingerprint and info.get("version") == RUN_VERSION:
                log.info("%s: resuming the run in %s", self.target, path)
                return path, int(info["seed"])
            log.info("%s: %s was run with other settings; starting afresh", self.target, path)
        except (OSError, ValueError, KeyError):
            pass
        shutil.rmtree(path, ignore_errors=True)
        info = {
            "version": RUN_VERSION,
            "target": self.target,
            "head": head,
            "cycle": number,
            "seed": seed,
            "fingerprint": fingerprint,
        }
        write_atomic(path / RUN_FILE, (json.dumps(info, indent=2) + "\n").encode())
        return path, seed

    def ancestor(self, method: str, flat: np.ndarray | None) -> Genome | None:
        """The genome kept from the last verified commit, if it can seed this run."""
        path = self.genome_path
        if flat is None or method in ("es", "cmaes") or not path.is_file():
            return None
        try:
            genome = Genome.load(path)
        except WeightsFileError as exc:
            log.warning("%s: ignoring the kept genome: %s", self.target, exc)
            return None
        if genome.kind != method:
            log.info(
                "%s: the kept genome's mutator is %s, not %s", self.target, genome.kind, method
            )
            return None
        return genome

    def archive(self, run_dir: Path, number: int) -> Path:
        """Keep a finished run's curve and run file as ``cycle-N``; drop its checkpoint."""
        final = self.root / f"cycle-{number}"
        shutil.rmtree(final, ignore_errors=True)
        (run_dir / CHECKPOINT).unlink(missing_ok=True)
        os.replace(run_dir, final)
        done = sorted(self.root.glob("cycle-*"), key=lambda p: int(p.name.split("-")[1]))
        for old in done[:-KEEP_RUNS]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def keep(self, genome: Genome, metadata: dict[str, str]) -> None:
        """Keep the verified commit's genome to seed the next run; losing it costs only that."""
        try:
            genome.save(self.genome_path, metadata)
        except OSError as exc:
            log.warning("%s: could not keep the genome: %s", self.target, exc)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
