"""One plain training loop for the teacher, the scratch student (alpha = 0) and the distilled student.

The whole training set is a uint8 tensor in memory; batches are index slices of a shuffled
permutation (no DataLoader). Progress goes to a callback, so the loop never knows who listens.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch

from kd.augment import augment
from kd.data import MNIST
from kd.losses import check_hyperparameters, distillation_loss
from kd.predict import as_float_images, cached_logits, logits


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10  # passes over the training set
    batch_size: int = 128  # images per optimiser step
    learning_rate: float = 0.01  # peak of the one-cycle schedule (AdamW)
    weight_decay: float = 5e-4  # decoupled weight decay
    temperature: float = 4.0  # softening of both models' logits in the soft term
    alpha: float = 0.0  # share of the soft-target term: 0 = labels only, 1 = teacher only
    augment: bool = True  # random affine + stroke-thickness changes per batch
    limit: int | None = None  # use only the first `limit` training images
    seed: int = 0  # weights init, shuffling and augmentation
    device: str = "auto"  # "auto" picks CUDA when present

    def __post_init__(self) -> None:
        check_hyperparameters(self.temperature, self.alpha)
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1")
        if self.limit is not None and self.limit < 1:
            raise ValueError("limit must be at least 1")


@dataclass(frozen=True)
class Progress:
    step: int  # optimiser steps done
    total_steps: int
    epoch: int  # 1-based epoch the step belongs to
    loss: float  # running mean of the training loss in this epoch
    elapsed: float  # seconds since training started
    test_accuracy: float | None = None  # set on the last step of each epoch


@dataclass
class TrainResult:
    history: list[dict] = field(default_factory=list)  # one row per epoch
    elapsed: float = 0.0  # seconds of training
    teacher_seconds: float = 0.0  # part of it spent on teacher forward passes


class Cancelled(Exception):
    """Training stopped because the cancel event was set."""


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block with torch's global RNG seeded, restoring the process's RNG state afterwards.

    Weight initialisation and dropout draw from the global RNG; seeding it only inside this
    block makes a run depend on its seed alone, not on whatever ran before in the process.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    return (logits(model, images).argmax(1) == labels).float().mean().item()


def train(
    model: torch.nn.Module,
    data: MNIST,
    config: TrainConfig,
    teacher: torch.nn.Module | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> TrainResult:
    """Train `model` in place; with alpha > 0 it learns from `teacher` as well as the labels."""
    if config.alpha > 0 and teacher is None:
        raise ValueError("alpha > 0 needs a teacher")
    with seeded(config.seed):
        return _train(model, data, config, teacher, on_progress, cancel)


def _train(
    model: torch.nn.Module,
    data: MNIST,
    config: TrainConfig,
    teacher: torch.nn.Module | None,
    on_progress: Callable[[Progress], None] | None,
    cancel: threading.Event | None,
) -> TrainResult:
    device = resolve_device(config.device)
    generator = torch.Generator().manual_seed(config.seed)
    images, labels = data.train_images[: config.limit], data.train_labels[: config.limit]
    # channels_last makes PyTorch's CPU convolutions markedly faster for these small nets
    model.to(device, memory_format=torch.channels_last).train()
    if teacher is not None and config.alpha > 0:
        teacher.to(device).eval()
    else:
        teacher = None
    # Without augmentation every epoch shows the same images: the teacher's logits for them
    # are computed once. With augmentation the teacher must see the very view the student
    # sees (a "consistent teacher", Beyer et al. 2022), so it runs on each augmented batch.
    cached_teacher_logits = None
    if teacher is not None and not config.augment:
        cached_teacher_logits = cached_logits(teacher, images, data, split="train")
    steps_per_epoch = math.ceil(len(images) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.learning_rate, total_steps=total_steps)
    result, start, step = TrainResult(), time.perf_counter(), 0
    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(len(images), generator=generator)
        loss_sum = 0.0
        for batch_index in range(steps_per_epoch):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            index = order[batch_index * config.batch_size : (batch_index + 1) * config.batch_size]
            batch = as_float_images(images[index])
            if config.augment:
                batch = augment(batch, generator)
            batch = batch.to(device, memory_format=torch.channels_last)
            targets = labels[index].to(device)
            teacher_logits = None
            if cached_teacher_logits is not None:
                teacher_logits = cached_teacher_logits[index].to(device)
            elif teacher is not None:
                teacher_start = time.perf_counter()
                with torch.no_grad():  # not inference_mode: the loss saves these for backward
                    teacher_logits = teacher(batch)
                result.teacher_seconds += time.perf_counter() - teacher_start
            loss = distillation_loss(model(batch), teacher_logits, targets, config.temperature, config.alpha)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            loss_sum += loss.item()
            last = batch_index == steps_per_epoch - 1
            test_accuracy = accuracy(model, data.test_images, data.test_labels) if last else None
            progress = Progress(
                step, total_steps, epoch, loss_sum / (batch_index + 1), time.perf_counter() - start, test_accuracy
            )
            if last:
                result.history.append(
                    {"epoch": epoch, "loss": progress.loss, "test_accuracy": test_accuracy, "elapsed": progress.elapsed}
                )
            if on_progress is not None:
                on_progress(progress)
    model.eval()
    result.elapsed = time.perf_counter() - start
    return result
