"""One distillation epoch: the project's loop against the loop a user would write from the tutorial.

    python -m benchmarks.train_speed [--limit N] [--threads N] [--repeats N] [--json]

In one process, over the same 50,000 training images (the first 50,000 of MNIST's 60,000), the same teacher,
the same student architecture, batch size, optimiser and loss:
- the project's loop (`kd.train.train`, teacher logits cached, no augmentation), and
- a tutorial-style loop (PyTorch's knowledge-distillation tutorial): torchvision's MNIST
  dataset class read from IDX files written from the same arrays, a DataLoader with 2
  workers, the teacher run on every batch, the loss written out as the tutorial writes it;
then the whole process `python -m kd distill --epochs 1 --json`. It prints seconds and ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from kd import checkpoint
from kd.data import FIT_SIZE, MNIST, load_mnist, training_split
from kd.models import PRESETS, build
from kd.predict import cached_logits
from kd.train import TrainConfig, seeded, train

TEACHER = "checkpoints/teacher.safetensors"
BATCH_SIZE, TEMPERATURE, ALPHA = 128, 4.0, 0.9
WARM_UP_IMAGES = 2560  # 20 steps at batch 128


def write_idx(path: Path, array: np.ndarray) -> None:
    """An MNIST IDX file (big-endian header: magic 0x08 = ubyte, rank, then each dimension)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def torchvision_mnist(data: MNIST, root: Path, limit: int | None = None):
    """torchvision's MNIST training set over our arrays, as a tutorial reader would load it (no download)."""
    from torchvision import datasets, transforms

    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    write_idx(raw / "train-images-idx3-ubyte", data.train_images[:FIT_SIZE][:limit].numpy())  # as many as kd trains on
    write_idx(raw / "train-labels-idx1-ubyte", data.train_labels[:FIT_SIZE][:limit].numpy())
    write_idx(raw / "t10k-images-idx3-ubyte", data.test_images.numpy())
    write_idx(raw / "t10k-labels-idx1-ubyte", data.test_labels.numpy())
    return datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor())


def tutorial_loss(student_logits, teacher_logits, labels, temperature: float, alpha: float) -> torch.Tensor:
    """The loss as PyTorch's knowledge-distillation tutorial writes it (soft_target_loss_weight = alpha)."""
    soft_targets = F.softmax(teacher_logits / temperature, dim=-1)
    soft_prob = F.log_softmax(student_logits / temperature, dim=-1)
    soft_targets_loss = torch.sum(soft_targets * (soft_targets.log() - soft_prob)) / soft_prob.size()[0]
    soft_targets_loss = soft_targets_loss * temperature**2
    label_loss = F.cross_entropy(student_logits, labels)
    return alpha * soft_targets_loss + (1 - alpha) * label_loss


def epoch_config(limit: int | None) -> TrainConfig:
    """One epoch at batch 128 with the learning rate that kd.train picks for it; both loops use it."""
    config = TrainConfig(epochs=1, batch_size=BATCH_SIZE, temperature=TEMPERATURE, alpha=ALPHA, augment=False)
    return replace(config, limit=limit).resolved()


def tutorial_epoch(dataset, teacher: torch.nn.Module, config: TrainConfig) -> float:
    """Seconds for one epoch of the tutorial's loop (DataLoader, teacher on every batch)."""
    from torch.utils.data import DataLoader

    with seeded(config.seed):
        student = build(PRESETS["student"])
        loader = DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True, num_workers=2)
        optimizer = torch.optim.AdamW(student.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.learning_rate, total_steps=len(loader))
        teacher.eval()
        student.train()
        start, running_loss = time.perf_counter(), 0.0
        for inputs, labels in loader:
            with torch.no_grad():
                teacher_logits = teacher(inputs)
            loss = tutorial_loss(student(inputs), teacher_logits, labels, config.temperature, config.alpha)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            running_loss += loss.item()
        return time.perf_counter() - start


def project_epoch(
    data: MNIST, teacher: torch.nn.Module, config: TrainConfig, threads: int | None
) -> tuple[float, float]:
    """(seconds, validation accuracy) of one epoch of kd.train with cached teacher logits."""
    split = training_split(data, config.limit, config.seed)
    cached_logits(teacher, split.images, data, split.key)  # the cache as a second run finds it
    with seeded(config.seed):
        student = build(PRESETS["student"])
    result = train(student, data, config, teacher=teacher, threads=threads)
    return result.elapsed, result.history[-1]["validation_accuracy"]


def whole_process(out: Path) -> dict:
    """Wall time of `python -m kd distill --epochs 1 --json` as a fresh process, and its training seconds."""
    command = [sys.executable, "-m", "kd", "distill", "--epochs", "1", "--json", "--out", str(out / "bench")]
    start = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    result = json.loads(finished.stdout)
    return {"wall_seconds": wall, "train_seconds": result["train_seconds"], "accuracy": result["accuracy"]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="training images (default: all 50,000)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads for both loops (default: all cores)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="epochs timed per loop, taking turns (median)")
    parser.add_argument("--skip-process", action="store_true", help="do not time `python -m kd distill`")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    data, teacher = load_mnist(), checkpoint.load(TEACHER)
    config = epoch_config(args.limit)
    report = {
        "images": args.limit or FIT_SIZE,
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "project_threads": torch.get_num_threads(),
        "tutorial_threads": torch.get_num_threads(),
    }
    # Untimed, a few steps of the same shapes first: whichever loop ran first paid the process's one-time
    # costs (oneDNN picking kernels, the allocator growing), and the other did not. Then the two loops take
    # turns, --repeats times each, and the medians are compared: one epoch on a shared VM varies by a second.
    project_epoch(data, teacher, replace(config, limit=WARM_UP_IMAGES), args.threads)
    project, tutorial = [], []
    with tempfile.TemporaryDirectory() as folder:
        dataset = torchvision_mnist(data, Path(folder), args.limit)
        for _ in range(args.repeats):
            seconds, report["project_validation_accuracy"] = project_epoch(data, teacher, config, args.threads)
            project.append(seconds)
            print(f"project epoch: {seconds:.1f} s", file=sys.stderr, flush=True)  # a long run shows progress
            tutorial.append(tutorial_epoch(dataset, teacher, config))
            print(f"tutorial epoch: {tutorial[-1]:.1f} s", file=sys.stderr, flush=True)
        report |= {"project_seconds_each": project, "tutorial_seconds_each": tutorial}
        report["project_seconds"], report["tutorial_seconds"] = statistics.median(project), statistics.median(tutorial)
        report["speedup"] = report["tutorial_seconds"] / report["project_seconds"]
        if not args.skip_process:
            report["distill_process"] = whole_process(Path(folder))
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key}: {json.dumps(value) if isinstance(value, dict) else value}")
    return report


if __name__ == "__main__":
    main()
