"""The dashboard's run store and queue: distillation runs trained one at a time in a worker thread.

Every visitor of a public dashboard shares one process and its CPUs, so a single worker
thread trains the queued runs in turn; further launches wait and can see their place in the
queue. Runs have caps on epochs and training-subset size so the server stays responsive.
A finished run is saved by `kd.pipeline.train_and_save` (atomic writes) as
`RUNS_DIR/<id>.safetensors` + `<id>.json`; the store lists finished runs from those files,
so they survive a restart. The worker never touches the UI: it only updates `Run` objects,
which the dashboard polls.
"""

from __future__ import annotations

import logging
import queue
import re
import secrets
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kd import checkpoint
from kd.baselines import baseline_metrics
from kd.data import MNIST, load_mnist
from kd.models import PRESETS
from kd.pipeline import train_and_save
from kd.train import Cancelled, Progress, TrainConfig

log = logging.getLogger(__name__)

MAX_EPOCHS = 5  # per run, on a shared server
MAX_LIMIT = 10_000  # training images per run
MAX_QUEUED = 8  # runs waiting behind the one that trains
KEEP_ENDED = 100  # ended runs remembered in memory (their progress); saved runs stay on disk regardless
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"


@dataclass(frozen=True)
class RunSettings:
    temperature: float = 4.0  # softening of both models' logits in the soft term
    alpha: float = 0.9  # share of the soft-target term: 0 = labels only, 1 = teacher only
    epochs: int = 2  # passes over the training subset
    limit: int = 5000  # first `limit` training images
    seed: int = 0  # weights init and shuffling

    def train_config(self) -> TrainConfig:
        """The training config of this run (validates temperature and alpha)."""
        return TrainConfig(
            epochs=self.epochs,
            temperature=self.temperature,
            alpha=self.alpha,
            augment=False,  # short runs: teacher logits are computed once and cached
            limit=self.limit,
            seed=self.seed,
        )

    @property
    def role(self) -> str:
        return "scratch student" if self.alpha == 0 else "distilled student"


@dataclass
class Run:
    id: str
    settings: RunSettings
    path: Path  # where the checkpoint is written when the run finishes
    status: str = QUEUED
    progress: list[Progress] = field(default_factory=list)
    error: str | None = None
    metadata: dict[str, Any] | None = None  # the saved checkpoint's metadata once done
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def active(self) -> bool:
        return self.status in (QUEUED, RUNNING)

    def latest(self) -> Progress | None:
        return self.progress[-1] if self.progress else None

    def remaining_seconds(self) -> float | None:
        """Time left, extrapolated from the steps done so far."""
        last = self.latest()
        if last is None or last.step == 0:
            return None
        return last.elapsed / last.step * (last.total_steps - last.step)


def command_for(settings: RunSettings, teacher_path: Path, out: Path) -> str:
    """The command line that reproduces a run."""
    arguments = [
        "--teacher", str(teacher_path),
        "--temperature", str(settings.temperature),
        "--alpha", str(settings.alpha),
        "--epochs", str(settings.epochs),
        "--limit", str(settings.limit),
        "--seed", str(settings.seed),
        "--no-augment",
        "--out", str(out),
    ]  # fmt: skip
    return "python -m kd distill " + shlex.join(arguments)


class RunManager:
    """A queue of distillation runs with one worker thread, and the store of finished runs."""

    def __init__(
        self,
        runs_dir: str | Path,
        teacher_path: str | Path,
        load_data: Callable[[], MNIST] = load_mnist,
        max_epochs: int = MAX_EPOCHS,
        max_limit: int = MAX_LIMIT,
        max_queued: int = MAX_QUEUED,
    ):
        self.runs_dir = Path(runs_dir)
        self.teacher_path = Path(teacher_path)
        self.max_epochs, self.max_limit, self.max_queued = max_epochs, max_limit, max_queued
        self._load_data = load_data
        self._data: MNIST | None = None
        self._runs: dict[str, Run] = {}
        self._queue: queue.Queue[Run | None] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    # --- launching and watching -------------------------------------------------------

    def check(self, settings: RunSettings) -> None:
        """Raise ValueError with a readable message if these settings may not run here."""
        settings.train_config()  # temperature > 0, 0 <= alpha <= 1, epochs and limit >= 1
        if not 1 <= settings.epochs <= self.max_epochs:
            raise ValueError(f"epochs must be between 1 and {self.max_epochs} on this server")
        if not 1 <= settings.limit <= self.max_limit:
            raise ValueError(f"the training subset must be between 1 and {self.max_limit:,} images on this server")
        if not self.teacher_path.is_file():
            raise ValueError(f"no teacher checkpoint at {self.teacher_path}: a run needs the teacher")

    def launch(self, settings: RunSettings) -> Run:
        """Queue a run; the worker starts it when the runs before it have finished."""
        self.check(settings)
        with self._lock:
            if len(self.queued()) >= self.max_queued:
                raise ValueError(f"{self.max_queued} runs are already waiting; try again in a few minutes")
            run_id = f"run-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
            run = Run(run_id, settings, self.runs_dir / f"{run_id}.safetensors")
            self._forget_old_runs()
            self._runs[run_id] = run
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="kd-run-worker", daemon=True)
                self._worker.start()
        self._queue.put(run)
        return run

    def _forget_old_runs(self) -> None:
        ended = sorted((run for run in self._snapshot() if not run.active), key=lambda run: run.created)
        for run in ended[: max(0, len(ended) - KEEP_ENDED + 1)]:
            del self._runs[run.id]

    def get(self, run_id: str) -> Run | None:
        return self._runs.get(run_id)

    def _snapshot(self) -> list[Run]:
        # list() of a dict's values is one step under the GIL: safe while the worker or launch() changes it
        return list(self._runs.values())

    def queued(self) -> list[Run]:
        """Runs waiting to start, oldest first."""
        return sorted((run for run in self._snapshot() if run.status == QUEUED), key=lambda run: run.created)

    def running(self) -> Run | None:
        return next((run for run in self._snapshot() if run.status == RUNNING), None)

    def position(self, run_id: str) -> int | None:
        """1 for the next run to start, 2 for the one after it ...; None if not waiting."""
        ids = [run.id for run in self.queued()]
        return ids.index(run_id) + 1 if run_id in ids else None

    def cancel(self, run_id: str) -> bool:
        """Stop a running run at its next step, or drop a queued one. False if it was not active."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or not run.active:
                return False
            run.cancel_event.set()
            if run.status == QUEUED:
                run.status, run.finished = CANCELLED, time.time()
            return True

    def wait(self, run_id: str, timeout: float | None = None) -> Run:
        """Block until a run is no longer active (for tests and scripts)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        run = self._runs[run_id]
        while run.active:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {run.status} after {timeout} s")
            time.sleep(0.05)
        return run

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel everything and stop the worker."""
        for run in self._snapshot():
            self.cancel(run.id)
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(timeout)

    # --- the worker -------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            run = self._queue.get()
            if run is None:
                return
            with self._lock:
                if run.status != QUEUED:  # cancelled while it waited
                    continue
                run.status, run.started = RUNNING, time.time()
            try:
                run.metadata = self._train(run)
                status, error = DONE, None
            except Cancelled:
                status, error = CANCELLED, None
            except Exception as exc:  # a failed run must never take the worker down
                log.exception("run %s failed", run.id)
                status, error = FAILED, f"{type(exc).__name__}: {exc}"
            with self._lock:
                run.status, run.error, run.finished = status, error, time.time()

    def _train(self, run: Run) -> dict[str, Any]:
        if self._data is None:
            self._data = self._load_data()
        teacher = checkpoint.load(self.teacher_path)
        out = run.path.with_suffix("")
        train_and_save(
            run.settings.role,
            PRESETS["student"],
            run.settings.train_config(),
            self._data,
            out,
            command_for(run.settings, self.teacher_path, out),
            teacher=teacher,  # also the reference for the agreement metric of a scratch run
            teacher_path=self.teacher_path,
            on_progress=run.progress.append,
            cancel=run.cancel_event,
        )
        metadata = checkpoint.read_metadata(run.path)  # as saved, with versions and the weights' checksum
        # the fair comparison: a scratch student of the same budget and seed, trained once and cached
        metadata["baseline"] = baseline_metrics(
            run.settings.train_config(), self._data, teacher, self.runs_dir / "baselines"
        )
        return metadata

    # --- the store of finished runs ---------------------------------------------------

    def finished(self) -> list[dict[str, Any]]:
        """Saved runs, newest first: {id, path, metadata} for each readable pair of files."""
        found = []
        for json_path in self.runs_dir.glob("*.json"):
            weights = json_path.with_suffix(".safetensors")
            if not weights.is_file():
                continue
            try:
                metadata = checkpoint.read_metadata(weights)
            except checkpoint.CheckpointError:
                continue  # damaged: not offered, never crashes the listing
            found.append({"id": json_path.stem, "path": weights, "metadata": metadata})
        return sorted(found, key=lambda run: (run["metadata"].get("created", ""), run["id"]), reverse=True)

    def delete(self, run_id: str) -> bool:
        """Remove a saved run's two files. False if there was nothing to delete."""
        if not RUN_ID.match(run_id):
            raise ValueError(f"not a run id: {run_id!r}")
        run = self._runs.get(run_id)
        if run is not None and run.active:
            raise ValueError(f"run {run_id} is still {run.status}; cancel it first")
        removed = False
        for suffix in (".safetensors", ".json"):
            path = self.runs_dir / f"{run_id}{suffix}"
            if path.is_file():
                path.unlink()
                removed = True
        self._runs.pop(run_id, None)
        return removed
