"""One cell of a sweep: a student trained from the teacher with the grid's values, recorded as a row.

Every cell is a `TrainConfig` (the recipe's defaults with the grid's values) trained from the
teacher by `kd.pipeline.train_and_save`. alpha = 0 cells are the scratch baselines: one per
(limit, epochs, seed), not repeated per temperature, and shared by every KD cell of that
budget and seed, so each KD cell is compared with the run that had the same initial weights
and data order. Cells run one after another in this process (`local`) or as Ray tasks
(`ray`, kd/sweep/on_ray.py), both driven by kd/sweep/run.py; each finished cell is recorded in
DIR/results.csv at once (kd/sweep/results.py) and a rerun skips the cells that are done.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from kd import checkpoint
from kd.data import MNIST, check_limit
from kd.flags import to_argv
from kd.models import PRESETS
from kd.pipeline import train_and_save
from kd.recipes import role
from kd.status import DONE, FAILED
from kd.sweep.results import CellResult, SweepGrid, cell_key
from kd.train import Progress, TrainConfig, torch_threads

# Every cell trains with one torch thread, whatever the backend: the order of float sums depends on
# the thread count, and in a short run that difference grows into points of accuracy (2,000 images,
# batch 32: 74.35 % with one thread, 73.04 % with two). One thread makes a cell's numbers the same on
# every backend and core count, and lets Ray run one cell per core.
CELL_THREADS = 1


def expand(grid: SweepGrid, recipe: TrainConfig) -> list[TrainConfig]:
    """The cells of a grid, seed by seed (a partial sweep already covers the grid), baselines first.

    An alpha = 0 cell ignores the temperature, so it appears once per (limit, epochs, seed),
    with the recipe's temperature. TrainConfig checks every value (temperature > 0, ...).
    """
    return list(iter_cells(grid, recipe))


def iter_cells(grid: SweepGrid, recipe: TrainConfig) -> Iterator[TrainConfig]:
    """The cells of `expand`, one at a time: a capped caller stops after the first few of a grid typed in a form."""
    for limit in grid.limits:
        check_limit(limit, "limits")
    seen: set[tuple] = set()
    for seed in grid.all_seeds():
        for limit in grid.limits:
            if seed not in grid.seeds_for(limit):
                continue
            for epochs in grid.epochs:
                for alpha in sorted(grid.alphas):
                    for temperature in (recipe.temperature,) if alpha == 0 else grid.temperatures:
                        cell = dataclasses.replace(
                            recipe, temperature=temperature, alpha=alpha, seed=seed, limit=limit, epochs=epochs
                        )
                        if cell_key(cell) not in seen:
                            seen.add(cell_key(cell))
                            yield cell


def distill_command(config: TrainConfig, teacher_path: str | Path, out: Path | None = None) -> str:
    """The command that trains this cell again, with the cell's thread count (OMP_NUM_THREADS sets torch's)."""
    argv = [*to_argv(config), "--teacher", str(teacher_path)] + (["--out", str(out)] if out is not None else [])
    return f"OMP_NUM_THREADS={CELL_THREADS} python -m kd distill " + shlex.join(argv)


def cell_name(config: TrainConfig) -> str:
    return f"T{config.temperature:g}-a{config.alpha:g}-n{config.limit}-e{config.epochs}-s{config.seed}"


def run_cell(
    config: TrainConfig,
    data: MNIST,
    teacher: torch.nn.Module,
    teacher_path: str | Path,
    checkpoint_dir: Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: Any = None,
) -> CellResult:
    """Train and evaluate one cell; its checkpoint is kept in `checkpoint_dir`, else deleted.

    One function for every caller: the sweep's backends and, later, the dashboard's run queue. It trains
    with CELL_THREADS torch threads; torch's setting is process-wide, so it is restored afterwards.
    """
    with tempfile.TemporaryDirectory(prefix="kd-cell-") as scratch, torch_threads(CELL_THREADS):
        out = Path(checkpoint_dir or scratch) / cell_name(config)
        metadata = train_and_save(
            role(config),
            PRESETS["student"],
            config,
            data,
            out,
            distill_command(config, teacher_path, out if checkpoint_dir else None),
            teacher=teacher,  # also the reference for agreement, for the baselines too
            teacher_path=teacher_path,
            on_progress=on_progress,
            cancel=cancel,
        )
    metrics = metadata["metrics"]
    return CellResult(
        **_cell_fields(config),
        accuracy=metrics["accuracy"],
        validation_accuracy=metadata["history"][-1]["validation_accuracy"],
        errors=metrics["errors"],
        ece=metrics["ece"],
        agreement=metrics.get("agreement"),
        train_seconds=metadata["train_seconds"],
        status=DONE,
        error="",
        command=metadata["command"],
        versions=json.dumps(checkpoint.library_versions()),
    )


def failed_cell(config: TrainConfig, teacher_path: str | Path, error: BaseException) -> CellResult:
    message = " ".join(f"{type(error).__name__}: {error}".split())[:500]  # one line in the CSV
    return CellResult(
        **_cell_fields(config),
        **dict.fromkeys(("accuracy", "validation_accuracy", "errors", "ece", "agreement", "train_seconds")),
        status=FAILED,
        error=message,
        command=distill_command(config, teacher_path),
        versions=json.dumps(checkpoint.library_versions()),
    )


def _cell_fields(config: TrainConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in ("temperature", "alpha", "seed", "limit", "epochs", "augment")}


@dataclass(frozen=True)
class CellInputs:
    """What every cell of a sweep shares."""

    data: MNIST
    teacher: torch.nn.Module
    teacher_path: Path  # written into each cell's command
    checkpoint_dir: Path | None = None  # where cells' checkpoints are kept; None: deleted
