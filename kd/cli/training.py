"""The training commands, `python -m kd train-teacher` and `python -m kd distill`: their flags (one per TrainConfig
field, kd.flags) and runners, each a `kd.pipeline.Job` trained by the path every run takes."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from kd import checkpoint
from kd.data import load_mnist
from kd.flags import add_dataclass_flags, from_args
from kd.models import PRESETS
from kd.pipeline import TEACHER_ROLE, Job, kd_command, train_and_save
from kd.train import TrainConfig


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def progress_reporter(description: str):
    """A tqdm bar on a terminal; elsewhere (logs, CI) one stderr line per epoch."""
    from tqdm import tqdm

    if not sys.stderr.isatty():

        def log_epoch(progress) -> None:
            if progress.validation_accuracy is not None:
                print(
                    f"{description}: epoch {progress.epoch}, loss {progress.loss:.4f}, "
                    f"validation accuracy {progress.validation_accuracy:.4f}, {progress.elapsed:.0f} s",
                    file=sys.stderr,
                )

        return log_epoch, None
    bar = tqdm(total=None, desc=description, unit="step", file=sys.stderr)

    def on_progress(progress) -> None:
        bar.total = progress.total_steps
        bar.n = progress.step
        postfix = {"epoch": progress.epoch, "loss": f"{progress.loss:.4f}"}
        if progress.validation_accuracy is not None:
            postfix["val_acc"] = f"{progress.validation_accuracy:.4f}"
        bar.set_postfix(postfix, refresh=True)

    return on_progress, bar


def add_training_flags(
    parser: argparse.ArgumentParser,
    defaults: dict[str, Any],
    recipes: dict[str, TrainConfig],
    exclude: tuple[str, ...] = (),
) -> None:
    """--recipe, one flag per TrainConfig field (its comment is the help), then the flags that are not settings."""
    parser.add_argument(
        "--recipe",
        choices=list(recipes),
        default=None,
        help="start from a shipped recipe (kd/recipes.py): its settings become the defaults, flags given override them",
    )
    add_dataclass_flags(parser, TrainConfig, defaults=defaults, exclude=exclude)
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="torch threads while training (default: all cores; 1 is faster when other work shares the cores)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def add_model_flag(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--model", choices=list(PRESETS), default=default,
        help="the layout to train, from the model registry (kd.models.PRESETS): the shipped CNNs or the MLPs of "
        "Hinton et al. 2015 (default: %(default)s)",
    )  # fmt: skip


def run_training(args, job: Job) -> dict[str, Any]:
    """Train and save the job, recording the command as typed; the figures the command prints."""
    data = load_mnist()
    on_progress, bar = progress_reporter(job.named_role)
    try:
        metadata = train_and_save(job, data, on_progress=on_progress, command=kd_command(args.argv))
    finally:
        if bar is not None:
            bar.close()
    metrics = metadata["metrics"]
    return {
        "checkpoint": str(checkpoint.weights_path(job.out)),
        "role": job.named_role,
        "config": metadata["train_config"],
        "accuracy": metrics["accuracy"],
        "errors": metrics["errors"],
        "agreement": metrics.get("agreement"),
        "ece": metrics["ece"],
        "parameters": metrics["parameters"],
        "train_seconds": metadata["train_seconds"],
        "teacher_seconds": metadata["teacher_seconds"],
        "history": metadata["history"],
        **({"omitted": metadata["omitted"]} if "omitted" in metadata else {}),
    }


def run_train_teacher(args) -> dict[str, Any]:
    job = Job(from_args(TrainConfig, args), Path(args.out), args.model, threads=args.threads, role=TEACHER_ROLE)
    return run_training(args, job)


def run_distill(args) -> dict[str, Any]:
    config = from_args(TrainConfig, args)
    out = args.out or f"runs/distill-{time.strftime('%Y%m%d-%H%M%S')}"
    teacher_path = Path(args.teacher) if Path(args.teacher).exists() or config.alpha > 0 else None
    return run_training(args, Job(config, Path(out), args.model, teacher_path, threads=args.threads))
