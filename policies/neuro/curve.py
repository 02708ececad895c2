"""The training curve of a run: best and mean return, and the mutators' statistics.

Kept as CSV (one row per generation, every statistic a column) and drawn as a
PNG: returns on top, the mutator's evolved numbers (escape probability, scales,
...) below. Both are rewritten whole, atomically, so a reader never sees half.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .genome import write_atomic

BASE = ("generation", "env_steps", "wall_time", "best", "mean", "median", "best_so_far")


def write_csv(path: Path | str, rows: Sequence[Mapping[str, Any]]) -> None:
    """All rows, with the union of their keys as columns (base columns first)."""
    extra = sorted({k for row in rows for k in row} - set(BASE))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*BASE, *extra], restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    write_atomic(Path(path), out.getvalue().encode())


def write_png(path: Path | str, rows: Sequence[Mapping[str, Any]], title: str = "") -> None:
    """Returns per generation, and below them the mutators' statistics."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gens = [r["generation"] for r in rows]
    stats = sorted({k for r in rows for k in r} - set(BASE))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    for key, style in (("best", "-"), ("mean", "--"), ("best_so_far", ":")):
        top.plot(gens, [r.get(key) for r in rows], style, label=key)
    top.set_ylabel("return (training episodes)")
    top.legend(loc="lower right")
    top.grid(alpha=0.3)
    if title:
        top.set_title(title)
    for key in stats:
        values = [r.get(key) for r in rows]
        if all(isinstance(v, int | float) for v in values):
            bottom.plot(gens, values, label=key)
    bottom.set_yscale("symlog", linthresh=1e-3)
    bottom.set_xlabel("generation")
    bottom.set_ylabel("mutator / population statistics")
    if stats:
        bottom.legend(loc="upper left", fontsize="small", ncol=2)
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    write_atomic(Path(path), buffer.getvalue())
