"""A whole sweep: the grid's cells not done yet, trained here or on Ray, each recorded as it finishes.

DIR/sweep.json says what the folder measures (grid, recipe, student architecture, teacher, data
split); a rerun resumes, skipping the cells recorded as done, and refuses a folder made with another
recipe, student architecture, teacher or data split.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kd import checkpoint
from kd.data import FIT_SIZE, MNIST, TEST_SIZE, VALIDATION_SIZE, load_mnist
from kd.models import PRESETS, build, count_parameters, model_spec
from kd.status import DONE, FAILED
from kd.sweep.cell import CELL_THREADS, STUDENT_MODEL, CellInputs, expand, failed_cell, run_cell
from kd.sweep.results import (
    GRID_FIELDS,
    RESULTS_FILE,
    SWEEP_FILE,
    CellResult,
    SweepGrid,
    SweepSpec,
    cell_key,
    read_results,
    record,
)
from kd.train import TrainConfig

# what each cell trains on, validates on and is scored on (kd.data.training_split; kd.evaluate the test set)
DATA_SPLIT = {
    "train": f"a class-balanced subset of `limit` of the first {FIT_SIZE:,} MNIST training images, chosen by the "
    "seed (the same for a KD cell and its scratch baseline)",
    "validation": f"the last {VALIDATION_SIZE:,} MNIST training images",
    "test": f"the {TEST_SIZE:,} MNIST test images",
}
# what a resumed sweep must share with the folder's cells, and the words that name it in a refusal
RESUME_MUST_MATCH = {
    "recipe": "recipe",
    "student": "student architecture",
    "teacher_sha256": "teacher",
    "data": "data split",
}


def run_local(cells: list[TrainConfig], inputs: CellInputs, on_result: Callable[[CellResult], None]) -> None:
    """Train the cells in this process, one after another; a failed cell is recorded and the sweep goes on."""
    for config in cells:
        try:
            result = run_cell(config, inputs)
        except Exception as exc:  # any failure of one cell must not end the sweep
            result = failed_cell(config, inputs, exc)
        on_result(result)


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold DIR/.lock for the sweep: a second sweep into the same folder would overwrite its rows."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"another sweep is writing to {out}") from None
        yield


def student_record() -> dict[str, Any]:
    """The student every cell trains (kd.sweep.cell.STUDENT_MODEL), named as a checkpoint's metadata names it
    (kd.models' registry), as JSON stores it."""
    layout = PRESETS[STUDENT_MODEL]
    record = {**model_spec(layout), "parameters": count_parameters(build(layout))}
    return json.loads(json.dumps(record))  # tuples as lists: compared with what sweep.json gives back


def write_sweep_record(out: Path, grid: SweepGrid, recipe: TrainConfig, teacher_path: Path, command: str, cells: int):
    """DIR/sweep.json: the grid, the command, the recipe, the student and teacher, and the data split.

    A folder never mixes two recipes, student architectures or teachers: a resume with another one is a
    ValueError.
    """
    record_path = out / SWEEP_FILE
    sweep = {
        "command": command,
        "grid": asdict(grid),
        # as JSON gives it back (tuples as lists), so that a resume compares like with like
        "recipe": json.loads(json.dumps({k: v for k, v in asdict(recipe).items() if k not in GRID_FIELDS})),
        "student": student_record(),
        "teacher": str(teacher_path),
        "teacher_sha256": checkpoint.read_metadata(teacher_path)["weights_sha256"],
        "data": DATA_SPLIT,
        "cells": cells,
        "torch_threads": CELL_THREADS,
        "versions": checkpoint.library_versions(),
        "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if record_path.is_file():
        earlier = json.loads(record_path.read_text())
        for key, what in RESUME_MUST_MATCH.items():
            if earlier.get(key) != sweep[key]:
                raise ValueError(f"{out} holds a sweep with another {what}; choose another --out")
    checkpoint.atomic_write_json(record_path, sweep)


@dataclass(frozen=True)
class Backend:
    """Where a sweep's cells train."""

    name: str = "local"  # "local": one after another in this process; "ray": Ray tasks, one cell per CPU
    address: str | None = None  # ray: a running cluster to join (`auto`, ray://host:10001); None: a private one
    workers: int | None = None  # ray: CPUs of the private cluster (None: all)

    def __post_init__(self) -> None:
        if self.name not in ("local", "ray"):
            raise ValueError(f"backend must be local or ray, got {self.name!r}")


def run_sweep(
    spec: SweepSpec,
    backend: Backend = Backend(),
    data: MNIST | None = None,
    keep_checkpoints: bool = False,
    command: str = "",
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[CellResult, int, int], None] | None = None,
) -> dict[str, Any]:
    """Train the cells of `spec` that are not done yet into its folder; returns counts and where the results are.

    on_start(cells to train) is called once, on_result(result, cells finished, cells to train) per cell.
    """
    out, teacher_path = Path(spec.out), Path(spec.teacher)
    cells = expand(spec.grid, spec.recipe)
    teacher = checkpoint.load(teacher_path)
    with locked(out):
        write_sweep_record(out, spec.grid, spec.recipe, teacher_path, command, len(cells))
        results_path = out / RESULTS_FILE
        done = {row.key for row in read_results(results_path) if row.status == DONE}
        todo = [cell for cell in cells if cell_key(cell) not in done]
        counts = {DONE: 0, FAILED: 0}
        started = time.perf_counter()
        if on_start is not None:
            on_start(len(todo))

        def finished(result: CellResult) -> None:
            record(results_path, result)
            counts[result.status] += 1
            if on_result is not None:
                on_result(result, counts[DONE] + counts[FAILED], len(todo))

        if todo:  # a finished sweep's rerun does not even load MNIST
            data = data if data is not None else load_mnist()
            inputs = CellInputs(data, teacher, teacher_path, out / "checkpoints" if keep_checkpoints else None)
            if backend.name == "ray":
                from kd.sweep.on_ray import run_ray  # Ray is imported only when asked for

                run_ray(todo, inputs, finished, address=backend.address, workers=backend.workers)
            else:
                run_local(todo, inputs, finished)
    return {
        "out": str(out),
        "results": str(results_path),
        "cells": len(cells),
        "skipped": len(cells) - len(todo),
        "done": counts[DONE],
        "failed": counts[FAILED],
        "seconds": time.perf_counter() - started,
    }
