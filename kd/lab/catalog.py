"""The model catalogue: shipped models and finished runs as typed entries, found by key, loaded by checksum.

Visitors name a model by its key ("teacher", "student", "scratch", "ensemble" or a run id), never by a
path: a key is looked up in the two folders the lab serves, so no client-sent string reaches
the file system, and no server path reaches a page. A checkpoint whose metadata lacks what the
lab shows is listed as unreadable, not shown with zeros.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from kd import checkpoint
from kd.lab.omitted_view import named
from kd.lab.settings import DEFAULT_TEACHER, ENSEMBLE, Settings
from kd.lab.store import RUN_ID
from kd.metadata import MetadataError, ModelInfo
from kd.models import describe
from kd.predict import predict_proba

# The shipped checkpoints, in the order the front ends list them, with the label people see.
SHIPPED: dict[str, str] = {
    "teacher": "Teacher",
    "student": "Distilled student",
    "scratch": "Scratch student (alpha = 0)",
}
# ... and the ensemble of teachers, listed after them where one was made: optional, so never "missing"
SHIPPED_KEYS = (*SHIPPED, ENSEMBLE)
DEFAULT_STUDENT = "student"  # the student that /predict and the Draw tabs answer with by default
SINGLE_TEACHER_CHOICE = "Teacher (one CNN)"  # how the Distill pages offer the single teacher beside an ensemble


@dataclass(frozen=True)
class ModelEntry:
    key: str  # "teacher", "student", "scratch", "ensemble" or a run id: what pages and clients send
    label: str  # what the selectors show
    path: Path  # on this server only: never shown to a visitor
    info: ModelInfo

    @property
    def is_run(self) -> bool:
        return self.key not in SHIPPED_KEYS

    @property
    def sha(self) -> str:
        return self.info.weights_sha256

    @property
    def layout(self) -> str:
        """The model's layout as its family describes it (kd.models' registry), "—" where the record cannot say."""
        try:
            return describe(self.info.raw["architecture"], self.info.raw["model_config"])
        except (KeyError, TypeError, ValueError):
            return "—"

    @property
    def size_bytes(self) -> int | None:
        try:
            return self.path.stat().st_size
        except OSError:
            return None


def read_entry(key: str, label: str, path: Path, metadata: dict | None = None) -> ModelEntry | None:
    """The entry for a checkpoint file, or None if it is missing, unreadable or lacks what the lab shows."""
    try:
        info = ModelInfo.from_dict(metadata if metadata is not None else checkpoint.read_metadata(path), key)
    except (checkpoint.CheckpointError, MetadataError):
        return None
    return ModelEntry(key, label, path, info)


def shipped(name: str, settings: Settings) -> ModelEntry | None:
    """One of the shipped checkpoints (the ensemble too), or None if it is not there or unreadable."""
    path = settings.checkpoint_path(name)
    return ensemble_entry(path) if name == ENSEMBLE else read_entry(name, SHIPPED[name], path)


def ensemble_entry(path: Path) -> ModelEntry | None:
    """The ensemble of teachers, labelled with how many it averages; None unless it is a readable ensemble.

    The count comes from the member list `python -m kd ensemble` records: an ensemble without one is unreadable.
    """
    entry = read_entry(ENSEMBLE, ENSEMBLE, path)
    members = entry.info.raw.get("members") if entry is not None else None
    if entry is None or entry.info.raw.get("architecture") != "ensemble" or not isinstance(members, list):
        return None
    return ModelEntry(ENSEMBLE, f"Ensemble of {len(members)} teachers", path, entry.info)


def missing_shipped(settings: Settings) -> list[str]:
    """Labels of the shipped checkpoints that are missing or unreadable."""
    return [label for name, label in SHIPPED.items() if shipped(name, settings) is None]


def run_teacher(info: ModelInfo) -> str:
    """The teacher a run distilled from, by the name of the checkpoint it recorded ("ensemble" for the ensemble's)."""
    recorded = info.raw.get("teacher")
    return Path(recorded).stem if isinstance(recorded, str) else DEFAULT_TEACHER


def run_label(run_id: str, info: ModelInfo) -> str:
    config = info.train_config
    label = (
        f"Run {run_id.removeprefix('run-')} · T={config['temperature']:g}, α={config['alpha']:g}, "
        f"{config['epochs']} ep, {info.train_images} img, seed {config['seed']}"
    )
    # only what differs from the default run, so the labels of plain runs stay short
    label += f", {config['mix']}" if config.get("mix", "none") != "none" else ""
    label += ", from the ensemble" if run_teacher(info) == ENSEMBLE else ""
    return label + correction(info)


def correction(info: ModelInfo) -> str:
    """What a run trained without some digits adds to its label: that Draw answers with its offset on them
    (Lab.answers, kd.omitted.corrected); "" for a run that saw every digit."""
    record = info.raw.get("omitted")
    try:
        digits, offset = named(record["digits"]), float(record["offset"])
    except (KeyError, TypeError, ValueError, IndexError):
        return ""
    return f", no {digits}s · answers corrected (+{offset:g} on {digits})"


def run_entry(run_id: str, path: Path, metadata: dict | None = None) -> ModelEntry | None:
    entry = read_entry(run_id, run_id, path, metadata)
    return None if entry is None else ModelEntry(run_id, run_label(run_id, entry.info), path, entry.info)


def entry_for(key: str, settings: Settings) -> ModelEntry | None:
    """The entry a key names (a shipped model or a saved run), else None, whatever string a client sent."""
    if key in SHIPPED_KEYS:
        return shipped(key, settings)
    if not isinstance(key, str) or not RUN_ID.fullmatch(key):
        return None
    path = settings.runs_dir / f"{key}.safetensors"
    return run_entry(key, path) if path.with_suffix(".json").is_file() else None


def load_model(path: Path, sha: str) -> torch.nn.Module:
    """The model in a checkpoint, checked against the weights checksum the caller listed it with.

    A file replaced between listing and loading raises CheckpointError rather than answering
    with other weights than the ones the page shows. The model is run once on a blank image:
    torch prepares its kernels on the first call, which a visitor's first drawing should not pay.
    """
    model = checkpoint.load(path)
    if checkpoint.read_metadata(path).get("weights_sha256") != sha:
        raise checkpoint.CheckpointError(f"{Path(path).name} changed since it was listed; reload the page")
    predict_proba(model, np.zeros((28, 28), np.float32))
    return model
