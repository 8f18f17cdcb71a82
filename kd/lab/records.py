"""What a run is: its settings (a `TrainConfig`), its status and progress (its command: kd.pipeline.Job.argv).

Kept apart from the queue (`kd.lab.runs`) so front ends can read these records without the worker.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kd.lab.settings import DEFAULT_TEACHER
from kd.status import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Status
from kd.train import Progress, TrainConfig

__all__ = ["CANCELLED", "DONE", "FAILED", "QUEUED", "RUNNING", "Run", "Status"]


@dataclass
class Run:
    id: str
    settings: TrainConfig  # validated when it was built: temperature > 0, 0 <= alpha <= 1, ...
    path: Path  # where the checkpoint is written when the run finishes
    status: Status = QUEUED
    progress: list[Progress] = field(default_factory=list)
    error: str | None = None
    metadata: dict[str, Any] | None = None  # the saved checkpoint's metadata once done
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    owner: str | None = None  # the visitor session that launched it (None: launched from code)
    teacher: str = DEFAULT_TEACHER  # the key of the checkpoint it distils from (kd.lab.settings.TEACHERS)
    committed: bool = False  # past its last step: it will be saved, too late to cancel
    twin_pending: bool = False  # done and saved, its scratch twin still training for the card's comparison
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)
    ended: threading.Event = field(default_factory=threading.Event, repr=False)  # set once settled (twin included)
    future: Future | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.status in (QUEUED, RUNNING)

    @property
    def watched(self) -> bool:
        """Whether a page showing this run should keep polling it: it waits, trains, or its twin does."""
        return self.active or self.twin_pending

    def latest(self) -> Progress | None:
        return self.progress[-1] if self.progress else None

    def remaining_seconds(self) -> float | None:
        """Time left, extrapolated from the steps done so far."""
        last = self.latest()
        if last is None or last.step == 0:
            return None
        return last.elapsed / last.step * (last.total_steps - last.step)
