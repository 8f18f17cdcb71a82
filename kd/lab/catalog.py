"""The model catalogue every front end shares: settings, shipped models, finished runs, loading.

The Streamlit lab and the Gradio app are two skins over this module. It reads the folders
from the environment in one place (`Settings.from_env`; the limits of a shared server are
`kd.lab.limits.Limits`), names the shipped models once (`SHIPPED`), turns checkpoints and saved
runs into typed records (`ModelEntry`), and loads a model by path and weights checksum. It
caches nothing: each front end wraps `load_model` in its own cache (st.cache_resource,
functools.lru_cache), keyed by path and checksum so a replaced file is loaded again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kd import checkpoint
from kd.lab.limits import Limits
from kd.lab.runs import RunManager
from kd.predict import predict_proba

ROOT = Path(__file__).resolve().parents[2]  # the repository: kd/lab/catalog.py is two folders down
# The shipped checkpoints, in the order the front ends list them, with the label people see.
SHIPPED: dict[str, str] = {
    "teacher": "Teacher",
    "student": "Distilled student",
    "scratch": "Scratch student (alpha = 0)",
}
DEFAULT_STUDENT = "student"  # the student that /predict and the Draw tabs answer with by default


@dataclass(frozen=True)
class Settings:
    checkpoints_dir: Path  # the teacher and the shipped students (KD_CHECKPOINTS_DIR)
    runs_dir: Path  # where finished runs are saved and listed from (KD_RUNS_DIR)

    @classmethod
    def from_env(cls) -> Settings:
        """Read at call time, not import time: tests and servers point it elsewhere per process."""
        return cls(
            checkpoints_dir=Path(os.environ.get("KD_CHECKPOINTS_DIR", ROOT / "checkpoints")),
            runs_dir=Path(os.environ.get("KD_RUNS_DIR", ROOT / "runs")),
        )

    @property
    def teacher_path(self) -> Path:
        return self.checkpoints_dir / "teacher.safetensors"


def new_run_manager(settings: Settings, limits: Limits) -> RunManager:
    """A run queue for these settings; a server keeps one for its lifetime, shared by every visitor."""
    return RunManager(settings.runs_dir, settings.teacher_path, limits=limits)


@dataclass(frozen=True)
class ModelEntry:
    key: str  # "teacher", "student", "scratch" or a run id
    label: str  # what the selectors show
    path: str
    metadata: dict[str, Any]

    @classmethod
    def from_checkpoint(cls, key: str, label: str, path: str | Path) -> ModelEntry:
        """An entry for a checkpoint file; raises CheckpointError if it is missing or unreadable."""
        return cls(key, label, str(path), checkpoint.read_metadata(path))

    @property
    def is_run(self) -> bool:
        return self.key not in SHIPPED

    @property
    def sha(self) -> str:
        return self.metadata.get("weights_sha256", "")

    @property
    def metrics(self) -> dict[str, Any]:
        return self.metadata.get("metrics", {})

    @property
    def size_bytes(self) -> int | None:
        try:
            return Path(self.path).stat().st_size
        except OSError:
            return None


def shipped(name: str, settings: Settings) -> ModelEntry | None:
    """One of the shipped checkpoints, or None if it is not there or unreadable."""
    try:
        return ModelEntry.from_checkpoint(name, SHIPPED[name], settings.checkpoints_dir / f"{name}.safetensors")
    except checkpoint.CheckpointError:
        return None


def missing_shipped(settings: Settings) -> list[str]:
    """Labels of the shipped checkpoints that are missing or unreadable."""
    return [label for name, label in SHIPPED.items() if shipped(name, settings) is None]


def run_label(run_id: str, metadata: dict[str, Any]) -> str:
    config = metadata.get("train_config", {})
    images = config.get("limit") or metadata.get("data", {}).get("train_images", "?")
    return (
        f"Run {run_id.removeprefix('run-')} · T={config.get('temperature', 0):g}, α={config.get('alpha', 0):g}, "
        f"{config.get('epochs', '?')} ep, {images} img, seed {config.get('seed', '?')}"
    )


def finished_runs(manager: RunManager) -> list[ModelEntry]:
    """The runs saved in the manager's folder, newest first."""
    return [
        ModelEntry(entry["id"], run_label(entry["id"], entry["metadata"]), str(entry["path"]), entry["metadata"])
        for entry in manager.finished()
    ]


def entry_for(path: str | Path, settings: Settings) -> ModelEntry | None:
    """The entry for a path the catalogue would list (a shipped checkpoint or a saved run), else None.

    Cheaper than listing every model when a page already holds the path, and it never opens a file
    outside the two folders, whatever path a client sends.
    """
    path = Path(path)
    for name in SHIPPED:
        if path == settings.checkpoints_dir / f"{name}.safetensors":
            return shipped(name, settings)
    if path.parent != settings.runs_dir or path.suffix != ".safetensors" or not path.with_suffix(".json").is_file():
        return None
    try:
        metadata = checkpoint.read_metadata(path)
    except checkpoint.CheckpointError:
        return None
    return ModelEntry(path.stem, run_label(path.stem, metadata), str(path), metadata)


def model_entries(settings: Settings, manager: RunManager, teacher: bool = True) -> list[ModelEntry]:
    """Every model there is to pick: the shipped ones that exist, then the finished runs."""
    names = [name for name in SHIPPED if teacher or name != "teacher"]
    found = [shipped(name, settings) for name in names]
    return [entry for entry in found if entry is not None] + finished_runs(manager)


def load_model(path: str, sha: str) -> torch.nn.Module:
    """The model in a checkpoint, checked against the weights checksum the caller listed it with.

    A file replaced between listing and loading raises CheckpointError rather than answering
    with other weights than the ones the page shows. The model is run once on a blank image:
    torch prepares its kernels on the first call, which a visitor's first drawing should not pay.
    """
    model = checkpoint.load(path)
    found = checkpoint.read_metadata(path).get("weights_sha256", "")
    if sha and found != sha:
        raise checkpoint.CheckpointError(f"{path} changed since it was listed; reload the page")
    predict_proba(model, np.zeros((28, 28), np.float32))
    return model
