"""Sweeps launched from the dashboard: a small grid whose cells take turns with visitors' runs on the one worker.

`python -m kd sweep` trains a grid in one go; a public dashboard cannot, since every visitor
shares one worker (`kd.lab.runs.RunManager`). So a dashboard sweep is capped (`kd.lab.limits.Limits`:
cells per sweep, epochs and images per cell, one sweep in flight per visitor, at most
`max_queued` sweeps at once) and queues one cell at a time: when a cell ends, its row is
recorded and the next cell goes to the back of the worker's queue, so a run launched meanwhile
waits for at most one cell of each sweep. The folder it writes under the runs folder is the one
`python -m kd sweep` writes (sweep.json, results.csv): the Sweeps page, `sweep-report` and the
recorded command (which resumes a stopped sweep) read it like any other.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import torch

from kd import checkpoint
from kd.flags import to_argv
from kd.lab.runs import RunManager
from kd.pipeline import kd_command
from kd.status import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Status
from kd.sweep.cell import CellInputs, failed_cell, iter_cells, run_cell
from kd.sweep.results import GRID_FIELDS, RESULTS_FILE, SweepGrid, parse_numbers, record, to_csv
from kd.sweep.run import write_sweep_record
from kd.train import Cancelled, TrainConfig

log = logging.getLogger(__name__)
KEEP_SWEEP_FOLDERS = 20  # sweeps launched from the dashboard that stay in the runs folder, newest first
SWEEP_FOLDER = re.compile(r"sweep-\d{8}-\d{6}-[0-9a-f]{6}")  # the names launch() gives: the time sorts them


def grid_from_form(temperatures: str, alphas: str, seeds: str, images: int, epochs: int) -> SweepGrid:
    """The grid a sweep form describes: comma-separated lists and one data budget; ValueError says what is wrong."""
    lists = {}
    for name, text, kind in (("temperatures", temperatures, float), ("alphas", alphas, float), ("seeds", seeds, int)):
        try:
            lists[name] = parse_numbers(text, kind, minimum=0)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return SweepGrid(**lists, limits=(int(images),), epochs=(int(epochs),))


def plan(grid: SweepGrid, recipe: TrainConfig, manager: RunManager) -> list[TrainConfig]:
    """The cells of a sweep this server may train, in training order; ValueError says why not.

    A sweep measures the gain of distillation over the scratch student, so it needs alpha = 0
    and at least one alpha above it. The grid is expanded lazily: a form can describe millions
    of cells, and only the first `max_sweep_cells` + 1 are ever built.
    """
    if 0 not in grid.alphas:
        raise ValueError("add alpha 0: the scratch student each distilled cell is compared with")
    if not any(alpha > 0 for alpha in grid.alphas):
        raise ValueError("add an alpha above 0: alpha 0 alone trains only scratch students, with nothing to compare")
    cap = manager.limits.max_sweep_cells
    cells = list(islice(iter_cells(grid, recipe), cap + 1))
    if len(cells) > cap:
        raise ValueError(
            f"this grid has more than {cap} cells, the most one sweep may have on this server: "
            "use fewer temperatures, alphas or seeds"
        )
    for cell in cells:
        manager.check(cell)  # the caps of a single run: epochs, images, a teacher to learn from
    return cells


def sweep_command(grid: SweepGrid, recipe: TrainConfig, out: Path, teacher_path: Path) -> str:
    """The `python -m kd sweep` command that trains this grid into `out`; run again, it resumes a stopped sweep."""

    def listed(values: tuple) -> str:
        return ",".join(str(value) for value in values)  # str, not :g, so that no digit of a value is lost

    grid_flags = {"--temperatures": grid.temperatures, "--alphas": grid.alphas, "--seeds": grid.seeds}
    grid_flags |= {"--limits": grid.limits, "--epochs": grid.epochs}
    argv = [part for flag, values in grid_flags.items() for part in (flag, listed(values))]
    argv += [*to_argv(recipe, exclude=GRID_FIELDS), "--teacher", str(teacher_path), "--out", str(out)]
    return kd_command(["sweep", *argv])


@dataclass
class QueuedSweep:
    """A sweep launched from the dashboard, from its launch until its last cell is recorded or it is stopped."""

    id: str  # also the name of its folder under the runs folder
    folder: Path
    cells: list[TrainConfig]  # in training order: seed by seed, baselines first
    teacher: torch.nn.Module  # loaded once at launch: every cell learns from the teacher sweep.json names
    owner: str | None = None  # the visitor session that launched it (None: launched from code)
    status: Status = QUEUED  # QUEUED between cells, RUNNING while one trains; DONE with every cell recorded
    recorded: int = 0  # cells whose row is in results.csv (done or failed)
    error: str | None = None  # why the sweep stopped, when it could not record a cell
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)
    ended: threading.Event = field(default_factory=threading.Event, repr=False)
    future: Future | None = field(default=None, repr=False)  # the queued or training cell's task

    @property
    def active(self) -> bool:
        return self.status in (QUEUED, RUNNING)


class SweepQueue:
    """The sweeps in flight on one RunManager's worker. Thread-safe: every visitor's page reads it."""

    def __init__(self, manager: RunManager, recipe: TrainConfig):
        """`recipe`: the training settings every cell shares; the grid sets temperature, alpha, seed and budget."""
        self.manager, self.recipe = manager, recipe
        self._sweeps: dict[str, QueuedSweep] = {}  # in flight only
        self._lock = threading.Lock()

    def launch(self, grid: SweepGrid, owner: str | None = None) -> QueuedSweep:
        """Write the sweep's folder and queue its first cell; ValueError (nothing written) if it may not run."""
        cells = plan(grid, self.recipe, self.manager)
        with self._lock:
            if owner is not None and any(sweep.owner == owner for sweep in self._sweeps.values()):
                raise ValueError("you already have a sweep in flight: wait for it to finish or stop it first")
            if len(self._sweeps) >= self.manager.limits.max_queued:
                raise ValueError(
                    f"the server is training as many sweeps as it takes at once ({len(self._sweeps)}); "
                    "try again in a few minutes"
                )
            sweep_id = f"sweep-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
            try:
                teacher = checkpoint.load(self.manager.teacher_path)
            except checkpoint.CheckpointError as exc:
                raise ValueError(f"the teacher cannot be read: {exc}") from None
            sweep = QueuedSweep(sweep_id, self.manager.runs_dir / sweep_id, cells, teacher, owner)
            self._write_folder(sweep, grid)
            self._sweeps[sweep_id] = sweep
            self._prune_folders()
            self._queue_next(sweep)
        return sweep

    def _write_folder(self, sweep: QueuedSweep, grid: SweepGrid) -> None:
        """sweep.json, and a results.csv with no rows yet: the Sweeps page lists a folder once it has both."""
        teacher_path = self.manager.teacher_path
        sweep.folder.mkdir(parents=True)
        command = sweep_command(grid, self.recipe, sweep.folder, teacher_path)
        write_sweep_record(sweep.folder, grid, self.recipe, teacher_path, command, len(sweep.cells))
        checkpoint.atomic_write(sweep.folder / RESULTS_FILE, to_csv([]).encode())

    def _prune_folders(self) -> None:
        """Keep the newest KEEP_SWEEP_FOLDERS folders this queue wrote; sweeps in flight and folders named by hand stay.

        On a public server every visitor may launch sweeps, and each leaves a folder that the Sweeps page lists.
        """
        written = sorted(path for path in self.manager.runs_dir.glob("sweep-*") if SWEEP_FOLDER.fullmatch(path.name))
        for path in written[: max(0, len(written) - KEEP_SWEEP_FOLDERS)]:
            if path.name not in self._sweeps:
                shutil.rmtree(path, ignore_errors=True)

    def _queue_next(self, sweep: QueuedSweep) -> None:
        """The next cell goes to the back of the worker's queue: whatever was launched meanwhile trains first."""
        sweep.future = self.manager.submit(lambda: self._step(sweep))

    def _step(self, sweep: QueuedSweep) -> None:
        """On the worker: train and record one cell, then queue the next; a sweep that cannot record ends FAILED."""
        try:
            more = self._train_next(sweep)
        except Exception as exc:  # e.g. the folder was deleted: the worker must go on with the others' work
            log.exception("sweep %s stopped", sweep.id)
            self._end(sweep, FAILED, f"{type(exc).__name__}: {exc}")
            return
        if more:
            with self._lock:
                if sweep.active:
                    self._queue_next(sweep)

    def _train_next(self, sweep: QueuedSweep) -> bool:
        """Train and record the next cell; False once the sweep has ended (done or stopped)."""
        if sweep.cancel_event.is_set():
            self._end(sweep, CANCELLED)
            return False
        cell = sweep.cells[sweep.recorded]
        sweep.status = RUNNING  # before the data is loaded: loading is part of the cell's turn
        inputs = CellInputs(self.manager.data(), sweep.teacher, self.manager.teacher_path)
        try:
            result = run_cell(cell, inputs, cancel=sweep.cancel_event)
        except Cancelled:
            self._end(sweep, CANCELLED)
            return False
        except Exception as exc:  # one failed cell is recorded as such and the sweep goes on, as on the command line
            log.exception("sweep %s: a cell failed", sweep.id)
            result = failed_cell(cell, inputs, exc)
        record(sweep.folder / RESULTS_FILE, result)
        sweep.recorded += 1
        if sweep.recorded == len(sweep.cells):
            self._end(sweep, DONE)
            return False
        sweep.status = QUEUED
        return True

    def _end(self, sweep: QueuedSweep, status: Status, error: str | None = None) -> None:
        with self._lock:
            sweep.status, sweep.error = status, error
            self._sweeps.pop(sweep.id, None)
        sweep.ended.set()

    def mine(self, owner: str) -> QueuedSweep | None:
        """The visitor's sweep in flight, if any."""
        with self._lock:
            return next((sweep for sweep in self._sweeps.values() if sweep.owner == owner), None)

    def training(self) -> bool:
        """True while a cell of some sweep trains (the CPUs are busy, as while a run trains)."""
        with self._lock:
            return any(sweep.status == RUNNING for sweep in self._sweeps.values())

    def cancel(self, sweep_id: str, owner: str | None = None) -> bool:
        """Stop `owner`'s sweep: a training cell stops at its next step; the rows recorded so far stay.

        False if it is not in flight or not theirs.
        """
        with self._lock:
            sweep = self._sweeps.get(sweep_id)
            if sweep is None or sweep.owner != owner:
                return False
            sweep.cancel_event.set()
            waiting = sweep.future is not None and sweep.future.cancel()  # its cell had not started: end it now
        if waiting:
            self._end(sweep, CANCELLED)
        return True

    def wait(self, sweep: QueuedSweep, timeout: float | None = None) -> QueuedSweep:
        """Block until a sweep has ended (for tests and scripts)."""
        if not sweep.ended.wait(timeout):
            raise TimeoutError(f"sweep {sweep.id} still {sweep.status} after {timeout} s")
        return sweep

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every sweep (before the manager's own shutdown, which would drop their queued cells unseen)."""
        with self._lock:
            sweeps = list(self._sweeps.values())
        for sweep in sweeps:
            self.cancel(sweep.id, sweep.owner)
        for sweep in sweeps:
            sweep.ended.wait(timeout)
