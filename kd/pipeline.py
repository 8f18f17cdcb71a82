"""Train a model, evaluate it and save it as a checkpoint: the one path every run takes.

The command line (train-teacher, distill), the lab's runs, sweep cells and the scratch twins of
kd.baselines all describe what to train as a `Job` and call `train_and_evaluate` or
`train_and_save`; `Job.argv` is the command line that trains it again, which `kd_command` writes.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from kd import checkpoint, omitted
from kd.checkpoint import weights_checksum
from kd.data import FIT_SIZE, MNIST, VALIDATION_SIZE, validation_set
from kd.evaluate import evaluate
from kd.flags import to_argv
from kd.models import PRESETS, build, model_spec
from kd.predict import logits
from kd.recipes import role
from kd.train import Progress, TrainConfig, seeded, torch_threads, train

TEACHER_ROLE = "teacher"


@dataclass(frozen=True)
class Job:
    """One model to train: its settings, its layout, what it learns from, and where it is saved."""

    config: TrainConfig
    out: Path | None = None  # NAME for NAME.safetensors + NAME.json; None: not saved (a sweep cell's scores only)
    model: str = "student"  # the layout trained: a kd.models.PRESETS name
    teacher_path: Path | None = None  # the teacher (alpha > 0), and the reference of the agreement metric
    threads: int | None = None  # torch threads (None: as they are); the count changes float sums, so it is recorded
    role: str | None = None  # "teacher"; None: "scratch student" or "distilled student" by alpha

    def __post_init__(self) -> None:
        if self.model not in PRESETS:
            raise ValueError(f"unknown model {self.model!r}; one of {', '.join(PRESETS)}")

    @property
    def named_role(self) -> str:
        return self.role or role(self.config)

    @property
    def argv(self) -> list[str]:
        """The command line (after `python -m kd`) that trains this job again, every setting written out."""
        if self.named_role == TEACHER_ROLE:
            argv = ["train-teacher", "--model", self.model, *to_argv(self.config, exclude=("temperature", "alpha"))]
        else:
            teacher = ["--teacher", str(self.teacher_path)] if self.teacher_path is not None else []
            argv = ["distill", *teacher, "--model", self.model, *to_argv(self.config)]
        argv += ["--out", str(self.out)] if self.out is not None else []
        return argv + (["--threads", str(self.threads)] if self.threads is not None else [])


def kd_command(argv: list[str]) -> str:
    """The one way a reproducing command is written: `python -m kd` and the arguments, quoted for a shell."""
    return "python -m kd " + shlex.join(argv)


def data_record(data: MNIST, config: TrainConfig) -> dict[str, Any]:
    """Which images a run trained on, validated on and was scored on, for its checkpoint."""
    images = config.limit or FIT_SIZE
    train = (
        f"a class-balanced subset of the first {FIT_SIZE:,} training images chosen by seed {config.seed}"
        if images < FIT_SIZE
        else f"the first {FIT_SIZE:,} training images"
    )
    if config.omit_digits:
        train += f", without the digits {', '.join(map(str, config.omit_digits))}"
    return {
        "source": data.source,
        "sha256": data.checksum,
        "train_images": images,
        "train": train,
        "validation": f"the last {VALIDATION_SIZE:,} training images (never trained on)",
        "test": f"the {len(data.test_images):,} test images, once, after training",
    }


def train_and_evaluate(
    job: Job,
    data: MNIST,
    teacher: torch.nn.Module | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Train the job's model (from `teacher`, else the one at job.teacher_path), score it on the test set once.

    Returns the model and its metadata, not yet saved. Omitted digits get their offset chosen on validation.
    """
    if teacher is None and job.teacher_path is not None:
        teacher = checkpoint.load(job.teacher_path)
    started, config = time.time(), job.config
    with torch_threads(job.threads):
        with seeded(config.seed):  # the seed fixes the initial weights too, whatever ran before
            model = build(PRESETS[job.model])
        result = train(model, data, config, teacher=teacher, on_progress=on_progress, cancel=cancel)
        model = model.cpu()
        test_logits = logits(model, data.test_images)
        reference = teacher.cpu() if teacher is not None else None
        metrics = evaluate(model, data, reference=reference, model_logits=test_logits)  # the one look at the test set
        metadata = {
            "role": job.named_role,
            **model_spec(model),
            "train_config": {**asdict(result.config), "auto_batch_size": config.batch_size is None},
            "command": kd_command(job.argv),
            "seed": config.seed,
            "teacher": str(job.teacher_path) if job.teacher_path is not None else None,
            "teacher_sha256": weights_checksum(teacher.state_dict()) if teacher is not None else None,
            "data": data_record(data, config),
            "history": result.history,
            "train_seconds": result.elapsed,
            "teacher_seconds": result.teacher_seconds,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "metrics": metrics,
        }
        if config.omit_digits:
            images, labels = validation_set(data)  # the same for every limit, seed and omitted digit
            validation = (logits(model, images), labels)
            metadata["omitted"] = omitted.record(config.omit_digits, validation, (test_logits, data.test_labels))
    return model, metadata


def train_and_save(
    job: Job,
    data: MNIST,
    teacher: torch.nn.Module | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """train_and_evaluate, then save job.out (.safetensors + .json); returns the metadata as saved.

    `command`: what to record instead of the job's own command line (the command line typed, as given).
    """
    if job.out is None:
        raise ValueError("a job to save needs an out path")
    model, metadata = train_and_evaluate(job, data, teacher, on_progress, cancel)
    if command is not None:
        metadata["command"] = command
    checkpoint.save(job.out, model, metadata)
    return checkpoint.read_metadata(checkpoint.weights_path(job.out))
