"""The fair baseline for a distillation run: a scratch student (alpha = 0) of the same budget.

A run's result card says what distillation bought; that needs a student trained on the same
images, for the same epochs, with the same seed and recipe, but from the labels alone. The
shipped scratch student trained for 30 epochs on all 50,000 training images is not that. A
baseline is trained once per (budget, seed, recipe, model, teacher, data), by the same path as
every run (kd.pipeline), and its metrics are kept as a small JSON file, so every later run with
that budget compares against it at no cost.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from kd.checkpoint import atomic_write_json, weights_checksum
from kd.data import MNIST
from kd.models import PRESETS, model_spec
from kd.pipeline import Job, train_and_evaluate
from kd.train import TrainConfig


def scratch_config(config: TrainConfig) -> TrainConfig:
    """The run's config with the soft term switched off (temperature then plays no part)."""
    return replace(config.resolved(), alpha=0.0, temperature=TrainConfig.temperature)


def baseline_key(job: Job, teacher: torch.nn.Module, data: MNIST) -> str:
    """Everything the baseline's metrics depend on, hashed: budget, seed, recipe, model, teacher, data."""
    fields = {
        "train_config": asdict(scratch_config(job.config)),
        **model_spec(PRESETS[job.model]),
        "teacher": weights_checksum(teacher.state_dict()),  # the reference of the agreement metric
        "data": data.checksum,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:20]


def baseline_metrics(
    job: Job, data: MNIST, teacher: torch.nn.Module, folder: str | Path, cancel: threading.Event | None = None
) -> dict[str, Any]:
    """Test-set metrics of the job's scratch twin: read from `folder`, or trained (not saved) and kept there;
    `cancel` stops its training (kd.train.Cancelled).

    With omitted digits the twin trains on the very same images and its record carries the same
    "omitted" scores (it never saw those digits: their recall stays near 0 whatever the offset).
    """
    path = Path(folder) / f"{baseline_key(job, teacher, data)}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text())["metrics"]
        except (OSError, ValueError, KeyError):
            pass  # unreadable: train it again
    twin = replace(job, config=scratch_config(job.config), out=None, role=None)
    _, metadata = train_and_evaluate(twin, data, teacher, cancel=cancel)
    metrics = {**metadata["metrics"], **({"omitted": metadata["omitted"]} if "omitted" in metadata else {})}
    record = {"train_config": metadata["train_config"], "train_seconds": metadata["train_seconds"], "metrics": metrics}
    atomic_write_json(path, record)
    return metrics
