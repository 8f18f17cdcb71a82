"""One cell of a sweep: a student trained from the teacher with the grid's values, recorded as a row.

Every cell is a `TrainConfig` (the recipe's defaults with the grid's values) trained from the
teacher as a `kd.pipeline.Job`, the path every run takes. alpha = 0 cells are the scratch baselines: one per
(limit, epochs, seed), not repeated per temperature, and shared by every KD cell of that
budget and seed, so each KD cell is compared with the run that had the same initial weights
and data order. Cells run one after another in this process (`local`) or as Ray tasks
(`ray`, kd/sweep/on_ray.py), both driven by kd/sweep/run.py; each finished cell is recorded in
DIR/results.csv at once (kd/sweep/results.py) and a rerun skips the cells that are done.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from kd import checkpoint
from kd.data import MNIST, check_limit
from kd.pipeline import Job, kd_command, train_and_evaluate, train_and_save
from kd.status import DONE, FAILED
from kd.sweep.results import CellResult, SweepGrid, cell_key, digits_text
from kd.train import Progress, TrainConfig

# Every cell trains with one torch thread, whatever the backend: the order of float sums depends on
# the thread count, and in a short run that difference grows into points of accuracy (2,000 images,
# batch 32: 74.35 % with one thread, 73.04 % with two). One thread makes a cell's numbers the same on
# every backend and core count, and lets Ray run one cell per core.
CELL_THREADS = 1
STUDENT_MODEL = "student"  # the kd.models.PRESETS layout every cell trains


@dataclass(frozen=True)
class CellInputs:
    """What every cell of a sweep shares."""

    data: MNIST
    teacher: torch.nn.Module
    teacher_path: Path  # written into each cell's command
    checkpoint_dir: Path | None = None  # where cells' checkpoints are kept; None: not saved


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
            for epochs, omitted in itertools.product(grid.epochs, grid.omitted):
                for alpha in sorted(grid.alphas):
                    for temperature in (recipe.temperature,) if alpha == 0 else grid.temperatures:
                        cell = dataclasses.replace(
                            recipe, temperature=temperature, alpha=alpha, seed=seed, limit=limit, epochs=epochs,
                            omit_digits=omitted,
                        )  # fmt: skip
                        if cell_key(cell) not in seen:
                            seen.add(cell_key(cell))
                            yield cell


def cell_job(config: TrainConfig, inputs: CellInputs) -> Job:
    """The cell as a training job: the sweep's student, with CELL_THREADS torch threads, kept only where asked."""
    out = inputs.checkpoint_dir / cell_name(config) if inputs.checkpoint_dir is not None else None
    return Job(config, out, STUDENT_MODEL, inputs.teacher_path, threads=CELL_THREADS)


def cell_name(config: TrainConfig) -> str:
    name = f"T{config.temperature:g}-a{config.alpha:g}-n{config.limit}-e{config.epochs}-s{config.seed}"
    return name + (f"-no{''.join(map(str, config.omit_digits))}" if config.omit_digits else "")


def run_cell(
    config: TrainConfig,
    inputs: CellInputs,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: Any = None,
) -> CellResult:
    """Train and evaluate one cell (kd.pipeline, as every run); its checkpoint is kept in inputs.checkpoint_dir."""
    job = cell_job(config, inputs)
    if job.out is not None:
        metadata = train_and_save(job, inputs.data, inputs.teacher, on_progress, cancel)
    else:
        _, metadata = train_and_evaluate(job, inputs.data, inputs.teacher, on_progress, cancel)
    metrics, omitted = metadata["metrics"], metadata.get("omitted")
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
        omitted_recall_before=_mean_recall(omitted["test"]["before"]) if omitted else None,
        omitted_recall_after=_mean_recall(omitted["test"]["after"]) if omitted else None,
    )


def _mean_recall(scores: dict[str, Any]) -> float:
    """The left-out digits' mean recall in one of kd.omitted's records."""
    return sum(scores["recall"].values()) / len(scores["recall"])


def failed_cell(config: TrainConfig, inputs: CellInputs, error: BaseException) -> CellResult:
    message = " ".join(f"{type(error).__name__}: {error}".split())[:500]  # one line in the CSV
    return CellResult(
        **_cell_fields(config),
        **dict.fromkeys(("accuracy", "validation_accuracy", "errors", "ece", "agreement", "train_seconds")),
        status=FAILED,
        error=message,
        command=kd_command(cell_job(config, inputs).argv),
        versions=json.dumps(checkpoint.library_versions()),
    )


def _cell_fields(config: TrainConfig) -> dict[str, Any]:
    fields = {name: getattr(config, name) for name in ("temperature", "alpha", "seed", "limit", "epochs", "augment")}
    return {**fields, "omit_digits": digits_text(config.omit_digits)}
