"""Where a lab server keeps its files, read from KD_* variables in one place (its limits: kd.lab.limits)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from kd.paths import ROOT

DEFAULT_TEACHER = "teacher"  # the one CNN: what a run distils from unless the visitor picks another teacher
ENSEMBLE = "ensemble"  # an ensemble of teachers, where `python -m kd ensemble ... --out checkpoints/ensemble` made one
TEACHERS = (DEFAULT_TEACHER, ENSEMBLE)  # the keys a run's teacher may have


@dataclass(frozen=True)
class Settings:
    checkpoints_dir: Path  # the teacher and the shipped students (KD_CHECKPOINTS_DIR)
    runs_dir: Path  # where finished runs are saved and listed from (KD_RUNS_DIR)
    results_dir: Path  # the shipped sweeps the Sweeps page shows first (KD_RESULTS_DIR)

    @classmethod
    def from_env(cls) -> Settings:
        """Read at call time, not import time: tests and servers point it elsewhere per process."""
        return cls(
            checkpoints_dir=Path(os.environ.get("KD_CHECKPOINTS_DIR", ROOT / "checkpoints")),
            runs_dir=Path(os.environ.get("KD_RUNS_DIR", ROOT / "runs")),
            results_dir=Path(os.environ.get("KD_RESULTS_DIR", ROOT / "results")),
        )

    def checkpoint_path(self, key: str) -> Path:
        """Where a shipped checkpoint is kept, by its key: one of the catalogue's keys, never a client's string."""
        return self.checkpoints_dir / f"{key}.safetensors"

    @property
    def teacher_paths(self) -> dict[str, Path]:
        """Where each teacher a run may distil from is kept, by key (the ensemble's file exists only where made)."""
        return {key: self.checkpoint_path(key) for key in TEACHERS}


ABSOLUTE_PATH = re.compile(r"(?<![\w.])/[^\s'\"]+")


def shown_command(command: str) -> str:
    """A recorded command as a visitor may see it: each absolute path made relative (files keep the exact one)."""
    return ABSOLUTE_PATH.sub(lambda match: shown_path(Path(match.group(0))), command)


def shown_path(path: Path) -> str:
    """A server path as a visitor may see it: relative to the repository, else its last two parts (never absolute)."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(Path(path.parent.name) / path.name)
