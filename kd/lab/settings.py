"""Where a lab server keeps its files, read from KD_* variables in one place (its limits: kd.lab.limits)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: this file is kd/lab/settings.py


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

    @property
    def teacher_path(self) -> Path:
        return self.checkpoints_dir / "teacher.safetensors"


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
