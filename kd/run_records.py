"""What a run is: its settings, its status and progress, and the command line that reproduces it.

Kept apart from the queue (`kd.runs`) so front ends can read these records without the worker.
"""

from __future__ import annotations

import shlex
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from kd.flags import to_argv
from kd.train import Progress, TrainConfig


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


QUEUED, RUNNING, DONE, FAILED, CANCELLED = Status  # the names other modules import


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
    status: Status = QUEUED
    progress: list[Progress] = field(default_factory=list)
    error: str | None = None
    metadata: dict[str, Any] | None = None  # the saved checkpoint's metadata once done
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    owner: str | None = None  # the visitor session that launched it (None: launched from code)
    committed: bool = False  # past its last step: it will be saved, too late to cancel
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)
    ended: threading.Event = field(default_factory=threading.Event, repr=False)
    future: Future | None = field(default=None, repr=False)

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


def command_for(settings: RunSettings, teacher_path: Path, out: Path, threads: int | None = None) -> str:
    """The command line that reproduces a run (trained with `threads` torch threads: the count changes the sums)."""
    arguments = ["--teacher", str(teacher_path), *to_argv(settings.train_config()), "--out", str(out)]
    arguments += ["--threads", str(threads)] if threads is not None else []
    return "python -m kd distill " + shlex.join(arguments)
