"""The dashboard's run queue: distillation runs trained one at a time on a single worker thread.

Every visitor of a public dashboard shares one process and its CPUs, so one worker (a
`ThreadPoolExecutor` with one thread, one Future per run) trains the queued runs in turn, and
other heavy work (a latency measurement) queues behind them on the same worker. Launches are
capped (`kd.lab.limits.Limits`): epochs, images, runs waiting, and runs per visitor session (an
`owner` token). A finished run is saved by `kd.pipeline.train_and_save`, the path every run takes (atomic
writes), into the runs folder, which `kd.lab.store.RunStore` lists, bounds and sweeps. The worker never
touches the UI: it only updates `Run` objects, which the dashboard polls. Longer than most modules:
the queue, its worker and the rules a launch, a cancel and a delete obey share one lock and belong together.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import torch

from kd import checkpoint
from kd.baselines import baseline_metrics
from kd.data import FIT_SIZE, MNIST, load_mnist
from kd.lab.card import PLAIN_BASELINE
from kd.lab.cost import check_run_seconds, run_seconds, teacher_members, wait_seconds
from kd.lab.failures import failure_in_words
from kd.lab.limits import Limits
from kd.lab.records import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Run, Status
from kd.lab.settings import DEFAULT_TEACHER
from kd.lab.store import RUN_ID, RunStore
from kd.pipeline import Job, train_and_save
from kd.train import Cancelled, Progress, TrainConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVER_TRAIN_THREADS = 1  # torch threads for a run on a shared server: the other core answers visitors
RUN_MODEL = "student"  # the kd.models.PRESETS layout a visitor's run trains
KEEP_ENDED = 100  # ended runs remembered in memory (their progress); saved runs stay on disk regardless


class NotYours(ValueError):
    """A visitor tried to delete a run launched by someone else."""


class RunManager:
    """A queue of distillation runs with one worker thread, and the store of finished runs."""

    def __init__(
        self,
        runs_dir: str | Path,
        teachers: str | Path | Mapping[str, str | Path],
        load_data: Callable[[], MNIST] = load_mnist,
        limits: Limits | None = None,
    ):
        """`teachers`: the checkpoints a run may distil from, by key (kd.lab.settings.TEACHERS); a single path is
        the one teacher, "teacher". `limits`: the server's caps (default: `Limits()`)."""
        self.limits = limits or Limits()
        self.runs_dir = Path(runs_dir)
        if not isinstance(teachers, Mapping):
            teachers = {DEFAULT_TEACHER: teachers}
        self.teachers = {key: Path(path) for key, path in teachers.items()}
        self.store = RunStore(self.runs_dir)
        self._load_data = load_data
        self._data: MNIST | None = None
        self._runs: dict[str, Run] = {}
        self._owners: dict[str, str | None] = {}  # run id -> owner, for saved runs too, while this process lives
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self.store.sweep_orphans()
        self.store.prune(self.limits.max_saved_runs, self.limits.max_saved_bytes)

    @property
    def teacher_path(self) -> Path:
        """The single teacher: the default of a run, and what every sweep distils from."""
        return self.teachers[DEFAULT_TEACHER]

    # --- launching and watching -------------------------------------------------------

    def check(self, settings: TrainConfig, teacher: str = DEFAULT_TEACHER) -> None:
        """Raise ValueError with a readable message if these settings may not run here from this teacher."""
        self.check_caps(settings)
        path = self.teacher_checkpoint(teacher)
        if not path.is_file():
            raise ValueError(f"no teacher checkpoint at {path.name}: a run needs the teacher")
        check_run_seconds(settings, teacher_members(path), self.limits.max_run_seconds)

    def check_caps(self, settings: TrainConfig) -> None:
        """Raise ValueError with a readable message if these settings are over the server's caps.

        TrainConfig itself refused bad values when it was built (temperature > 0, 0 <= alpha <= 1,
        epochs and limit >= 1); this adds the server's caps. No limit means the whole training set.
        """
        limits = self.limits
        if settings.epochs > limits.max_epochs:
            raise ValueError(f"epochs must be between 1 and {limits.max_epochs} on this server")
        if (settings.limit or FIT_SIZE) > limits.max_images:
            raise ValueError(f"the training subset must be between 1 and {limits.max_images:,} images on this server")

    def teacher_checkpoint(self, teacher: str) -> Path:
        """Where the teacher a key names is kept (there or not); ValueError for a key this server has no teacher by."""
        if not isinstance(teacher, str) or teacher not in self.teachers:
            raise ValueError(f"unknown teacher {teacher!r}: a run distils from one of {', '.join(self.teachers)}")
        return self.teachers[teacher]

    def launch(self, settings: TrainConfig, owner: str | None = None, teacher: str = DEFAULT_TEACHER) -> Run:
        """Queue a run for `owner` (a visitor session's token) that distils from the teacher keyed `teacher`;
        the worker starts it after the runs before it."""
        self.check(settings, teacher)
        with self._lock:
            mine = [run for run in self._runs.values() if run.active and owner is not None and run.owner == owner]
            if len(mine) >= self.limits.runs_per_visitor:
                raise ValueError(
                    "you already have a run waiting or training: wait for it to finish or cancel it first"
                    if self.limits.runs_per_visitor == 1
                    else f"you already have {len(mine)} runs waiting or training, the most one visitor may have"
                )
            if sum(run.status == QUEUED for run in self._runs.values()) >= self.limits.max_queued:
                raise ValueError(f"{self.limits.max_queued} runs are already waiting; try again in a few minutes")
            run_id = f"run-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
            run = Run(run_id, settings, self.runs_dir / f"{run_id}.safetensors", owner=owner, teacher=teacher)
            self._forget_old_runs()
            self._runs[run_id] = run
            self._owners[run_id] = owner
            run.future = self._worker().submit(self._execute, run)
        return run

    def submit(self, task: Callable[[], T]) -> Future[T]:
        """Queue other heavy work (a latency measurement) on the same worker: it never shares the CPUs with a run."""
        with self._lock:
            return self._worker().submit(task)

    def _worker(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kd-run-worker")
        return self._executor

    def _forget_old_runs(self) -> None:
        ended = sorted((run for run in self._runs.values() if not run.active), key=lambda run: run.created)
        for run in ended[: max(0, len(ended) - KEEP_ENDED + 1)]:
            del self._runs[run.id]

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            return self._runs.get(run_id)

    def queued(self) -> list[Run]:
        """Runs waiting to start, oldest first."""
        with self._lock:
            waiting = [run for run in self._runs.values() if run.status == QUEUED]
        return sorted(waiting, key=lambda run: run.created)

    def running(self) -> Run | None:
        with self._lock:
            return next((run for run in self._runs.values() if run.status == RUNNING), None)

    def twin_training(self) -> bool:
        """True while the worker trains a saved run's scratch twin."""
        with self._lock:
            return any(run.twin_pending for run in self._runs.values())

    def latest_of(self, owner: str) -> Run | None:
        """The newest run `owner` launched that this process remembers (waiting, training or ended)."""
        with self._lock:
            mine = [run for run in self._runs.values() if run.owner == owner]
        return max(mine, key=lambda run: run.created, default=None)

    def position(self, run_id: str) -> int | None:
        """1 for the next run to start, 2 for the one after it ...; None if not waiting."""
        ids = [run.id for run in self.queued()]
        return ids.index(run_id) + 1 if run_id in ids else None

    def expected_wait(self, run_id: str) -> float | None:
        """Seconds until a queued run is expected to start (kd.lab.cost); None if it is not waiting."""
        waiting = self.queued()
        ids = [run.id for run in waiting]
        if run_id not in ids:
            return None
        running = self.running()
        left = None
        if running is not None:
            left = running.remaining_seconds() or self.run_seconds(running)
        return wait_seconds(left, (self.run_seconds(run) for run in waiting[: ids.index(run_id)]))

    def run_seconds(self, run: Run) -> float:
        """The worker seconds this run is expected to take (kd.lab.cost)."""
        return run_seconds(run.settings, teacher_members(self.teachers.get(run.teacher, self.teacher_path)))

    def cancel(self, run_id: str) -> bool:
        """Stop a running run at its next step, or drop a queued one.

        False if it was not active, or has passed its last step (it is being saved: it will be done).
        """
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or not run.active or run.committed:
                return False
            run.cancel_event.set()
            if run.status == QUEUED:
                run.future.cancel()  # if the worker picks it up anyway, _execute sees the status and skips it
                self._end(run, CANCELLED)
            return True

    def wait(self, run_id: str, timeout: float | None = None) -> Run:
        """Block until a run is no longer active (for tests and scripts)."""
        run = self.get(run_id)
        if run is None:
            raise KeyError(run_id)
        if not run.ended.wait(timeout):
            raise TimeoutError(f"run {run_id} still {run.status} after {timeout} s")
        return run

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel everything and stop the worker (waiting up to `timeout` for a run to stop)."""
        with self._lock:
            active = [run for run in self._runs.values() if run.watched]
        for run in active:
            self.cancel(run.id)
            run.cancel_event.set()  # a saved run's twin too
        with self._lock:
            executor, self._executor = self._executor, None  # a later launch starts a fresh worker
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        for run in active:
            run.ended.wait(timeout)

    # --- the worker -------------------------------------------------------------------

    def _end(self, run: Run, status: Status, error: str | None = None, settled: bool = True) -> None:
        """Under the lock: record how a run ended; `settled`: nothing more to do for it (else its twin trains)."""
        run.status, run.error, run.finished = status, error, time.time()
        if status != DONE:
            self._owners.pop(run.id, None)  # nothing saved, nothing to own
        run.twin_pending = not settled
        if settled:
            run.ended.set()

    def _execute(self, run: Run) -> None:
        """Train and save the run, show it done (its card can be read), then train its scratch twins for the card."""
        with self._lock:
            if run.status != QUEUED:  # cancelled while it waited
                return
            run.status, run.started = RUNNING, time.time()
        job = teacher = metadata = error = None
        try:
            job, teacher, metadata = self._train(run)
            status = DONE
        except Cancelled:
            status = CANCELLED
        except Exception as exc:  # a failed run must never take the worker down
            log.exception("run %s failed", run.id)  # the traceback for the log; the visitor gets words
            status, error = FAILED, failure_in_words(exc)
        if status == DONE:
            self.store.set_owner(run.id, run.owner)  # kept with the runs: a restart still knows whose share it is
            self._prune(keep=run.id)  # before the run is seen ended: whoever waits sees the bounded folder
        with self._lock:
            run.metadata = metadata
            self._end(run, status, error, settled=status != DONE)
        if status == DONE:
            twins = self._twins(run, job, teacher)
            self._prune(keep=run.id)  # the new twin too: the folder is bounded again before the run is settled
            with self._lock:
                run.metadata = {**metadata, **twins}
                run.twin_pending = False
                run.ended.set()

    def _on_progress(self, run: Run, progress: Progress) -> None:
        with self._lock:
            if progress.step == progress.total_steps:
                if run.cancel_event.is_set():  # asked during the last step: honour it, save nothing
                    raise Cancelled()
                run.committed = True
            run.progress.append(progress)

    def data(self) -> MNIST:
        """The training data, loaded once on first use; called on the worker, where runs and sweep cells train."""
        if self._data is None:
            self._data = self._load_data()
        return self._data

    def _train(self, run: Run) -> tuple[Job, torch.nn.Module, dict[str, Any]]:
        """Train, evaluate and save a run (kd.pipeline, as every run); returns its job, teacher and metadata.

        One torch thread: the server's other core stays free for visitors' predictions (kd.train.torch_threads).
        """
        teacher_path = self.teachers[run.teacher]
        teacher = checkpoint.load(teacher_path)  # one model or an ensemble: both answer with (B, 10) logits
        job = Job(run.settings, run.path.with_suffix(""), RUN_MODEL, teacher_path, threads=SERVER_TRAIN_THREADS)

        def on_progress(progress: Progress) -> None:
            self._on_progress(run, progress)

        metadata = train_and_save(job, self.data(), teacher, on_progress=on_progress, cancel=run.cancel_event)
        return job, teacher, metadata

    def _twins(self, run: Run, job: Job, teacher: torch.nn.Module) -> dict[str, Any]:
        """The fair comparison for a saved run's card: a scratch student of the same budget, seed and mixing (and a
        mixed run's plain one, so the card can tell the teacher's gain from the mixing's), each trained once and
        cached. Trained after the run is shown done; a failed or stopped twin leaves the card without it."""
        folder, twins = self.runs_dir / "baselines", {}
        try:
            twins["baseline"] = baseline_metrics(job, self.data(), teacher, folder, run.cancel_event)
            if run.settings.mix != "none":
                plain = dataclasses.replace(job, config=dataclasses.replace(job.config, mix="none"))
                twins[PLAIN_BASELINE] = baseline_metrics(plain, self.data(), teacher, folder, run.cancel_event)
        except Cancelled:
            pass  # the server is shutting down
        except Exception:  # the run itself is saved and shown: its card goes without a twin
            log.exception("the scratch twin of run %s failed", run.id)
        return twins

    def _prune(self, keep: str) -> None:
        try:
            removed = self.store.prune(self.limits.max_saved_runs, self.limits.max_saved_bytes, keep=keep)
        except OSError:
            log.exception("could not remove old runs from %s", self.runs_dir)
            return
        with self._lock:
            for run_id in removed:
                self._owners.pop(run_id, None)
                self._runs.pop(run_id, None)

    # --- the store of finished runs ---------------------------------------------------

    def finished(self) -> list[dict[str, Any]]:
        """Saved runs, newest first: {id, path, metadata} for each readable pair of files."""
        return self.store.entries()

    def may_delete(self, run_id: str, owner: str | None = None) -> bool:
        """Whether `owner` may delete this saved run: their own, or any where the server allows it."""
        with self._lock:
            launcher = self._owners.get(run_id) or self.store.owner(run_id)  # the store's survives a restart
            return self.limits.allow_delete_any or launcher == owner

    def delete(self, run_id: str, owner: str | None = None) -> bool:
        """Remove a saved run's two files. False if there was nothing to delete.

        Raises NotYours (a ValueError) unless `owner` launched the run or the limits allow deleting any.
        """
        if not RUN_ID.match(run_id):
            raise ValueError(f"not a run id: {run_id!r}")
        if not self.may_delete(run_id, owner):
            raise NotYours("only the visitor who launched a run may delete it")
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None and run.active:
                raise ValueError(f"run {run_id} is still {run.status}; cancel it first")
            removed = self.store.delete(run_id)
            self._runs.pop(run_id, None)
            self._owners.pop(run_id, None)
        return removed
