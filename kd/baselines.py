"""The fair baseline for a distillation run: a scratch student (alpha = 0) of the same budget.

A run's result card says what distillation bought; that needs a student trained on the same
images, for the same epochs, with the same seed and recipe, but from the labels alone. The
shipped scratch student trained for 12 epochs on all 60,000 images is not that. A baseline is
trained once per (budget, seed, recipe, teacher, data) and its metrics are kept as a small
JSON file, so every later run with that budget compares against it at no cost.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from kd.checkpoint import atomic_write_json, weights_checksum
from kd.data import MNIST
from kd.evaluate import evaluate
from kd.models import PRESETS, ConvNetConfig, build_model, config_dict
from kd.train import TrainConfig, seeded, train


def scratch_config(config: TrainConfig) -> TrainConfig:
    """The run's config with the soft term switched off (temperature then plays no part)."""
    return replace(config.resolved(), alpha=0.0, temperature=TrainConfig.temperature)


def baseline_key(config: TrainConfig, model_config: ConvNetConfig, teacher: torch.nn.Module, data: MNIST) -> str:
    """Everything the baseline's metrics depend on, hashed: budget, seed, recipe, model, teacher, data."""
    fields = {
        "train_config": asdict(scratch_config(config)),
        "model_config": config_dict(model_config),
        "teacher": weights_checksum(teacher.state_dict()),  # the reference of the agreement metric
        "data": data.checksum,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:20]


def baseline_metrics(
    config: TrainConfig,
    data: MNIST,
    teacher: torch.nn.Module,
    folder: str | Path,
    model_config: ConvNetConfig = PRESETS["student"],
) -> dict[str, Any]:
    """Test-set metrics of the scratch student with `config`'s budget: read from `folder`, or trained and kept there."""
    path = Path(folder) / f"{baseline_key(config, model_config, teacher, data)}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text())["metrics"]
        except (OSError, ValueError, KeyError):
            pass  # unreadable: train it again
    scratch = scratch_config(config)
    with seeded(scratch.seed):  # the same initial weights as a scratch run launched with these settings
        model = build_model("convnet", model_config)
    result = train(model, data, scratch)
    metrics = evaluate(model, data, reference=teacher)
    atomic_write_json(path, {"train_config": asdict(scratch), "train_seconds": result.elapsed, "metrics": metrics})
    return metrics
