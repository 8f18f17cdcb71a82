"""Train a model, evaluate it and save it as a checkpoint: what the command line and the dashboard run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from kd import checkpoint
from kd.data import FIT_SIZE, MNIST, VALIDATION_SIZE
from kd.evaluate import evaluate
from kd.models import ConvNetConfig, build_model, config_dict
from kd.train import Progress, TrainConfig, seeded, train


def data_record(data: MNIST, config: TrainConfig) -> dict[str, Any]:
    """Which images a run trained on, validated on and was scored on, for its checkpoint."""
    images = config.limit or FIT_SIZE
    return {
        "source": data.source,
        "sha256": data.checksum,
        "train_images": images,
        "train": f"a class-balanced subset of the first {FIT_SIZE:,} training images chosen by seed {config.seed}"
        if images < FIT_SIZE
        else f"the first {FIT_SIZE:,} training images",
        "validation": f"the last {VALIDATION_SIZE:,} training images (never trained on)",
        "test": f"the {len(data.test_images):,} test images, once, after training",
    }


def train_and_save(
    role: str,
    model_config: ConvNetConfig,
    config: TrainConfig,
    data: MNIST,
    out: str | Path,
    command: str,
    teacher: torch.nn.Module | None = None,
    teacher_path: str | Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Train, evaluate on the test set, save `out`.safetensors + .json; return the metadata."""
    started = time.time()
    with seeded(config.seed):  # the seed fixes the initial weights too, whatever ran before
        model = build_model("convnet", model_config)
    result = train(model, data, config, teacher=teacher, on_progress=on_progress, cancel=cancel, threads=threads)
    metadata = {
        "role": role,
        "architecture": "convnet",
        "model_config": config_dict(model_config),
        "train_config": {**asdict(result.config), "auto_batch_size": config.batch_size is None},
        "command": command,
        "seed": config.seed,
        "teacher": str(teacher_path) if teacher_path is not None else None,
        "data": data_record(data, config),
        "history": result.history,
        "train_seconds": result.elapsed,
        "teacher_seconds": result.teacher_seconds,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
    }
    path = checkpoint.weights_path(out)
    reference = teacher.cpu() if teacher is not None else None
    metadata["metrics"] = evaluate(model.cpu(), data, reference=reference)  # the one look at the test set
    checkpoint.save(path, model, metadata)
    return metadata
