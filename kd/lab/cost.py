"""What a run costs the one worker, in seconds: bounded per run, and told to whoever waits behind it.

Epochs and images alone do not bound a run: a mixed run (function matching) cannot use cached
teacher logits, so every batch also runs the teacher forward, once per member of an ensemble.
Calibrated on the 2-core machine (one torch thread, as the server trains): the largest plain run
(5 epochs x 10,000 images) held the worker 61 s, the same with CutMix and the three-teacher
ensemble 170 s. The estimate is for the caps and the queue notice, not a promise to the second.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from kd import checkpoint
from kd.data import FIT_SIZE
from kd.train import TrainConfig

FIXED_SECONDS = 5.0  # loading the teacher, evaluating on the 10,000 test digits, saving
SECONDS_PER_IMAGE = 1.1e-3  # one training image through the student, forward and backward, per epoch
TEACHER_SHARE = 0.65  # one teacher member's forward pass on a mixed image, as a share of the student's step


def teacher_members(path: Path) -> int:
    """How many models answer as the teacher in this checkpoint: an ensemble's members, else 1."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return 1
    return _members(str(path), stamp)


@functools.lru_cache(maxsize=16)
def _members(path: str, stamp: int) -> int:  # by modification time: a replaced checkpoint is read again
    try:
        members = checkpoint.read_metadata(path).get("members")
    except checkpoint.CheckpointError:
        return 1
    return len(members) if isinstance(members, list) and members else 1


def run_seconds(settings: TrainConfig, members: int = 1) -> float:
    """The worker seconds a run with these settings is expected to take, from a teacher of `members` models."""
    per_image = SECONDS_PER_IMAGE
    if settings.teacher_every_batch:  # no cached logits: the teacher runs on every (mixed, augmented) batch
        per_image *= 1 + TEACHER_SHARE * members
    return FIXED_SECONDS + settings.epochs * (settings.limit or FIT_SIZE) * per_image


def check_run_seconds(settings: TrainConfig, members: int, most: int) -> None:
    """ValueError, in words, if the run would hold the worker longer than `most` seconds."""
    seconds = run_seconds(settings, members)
    if seconds > most:
        raise ValueError(
            f"this run would hold the server's only worker about {seconds:.0f} s, and one run may take at most "
            f"{most} s here: pick fewer epochs or images, no mixing, or the single teacher"
        )


def in_words(seconds: float) -> str:
    """A wait, rounded as a person would say it: "about 40 s", "about 3 min"."""
    return f"about {seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.0f} min"


def wait_seconds(running_left: float | None, ahead: Iterable[float]) -> float:
    """The expected wait of a queued run: what is left of the running one, then each run before it."""
    return (running_left or 0.0) + sum(ahead)
