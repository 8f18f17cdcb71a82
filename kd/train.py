"""One plain training loop for the teacher, the scratch student (alpha = 0) and the distilled student.

The whole training set is converted once to a float tensor in memory; batches are index
slices of a shuffled permutation (no DataLoader). Progress goes to a callback, so the loop
never knows who listens. The loop does nothing per step but the student's own forward and
backward pass (and the teacher's, when augmentation or mixing makes cached logits impossible): the loss
is summed as a tensor and read (one host sync) only every `PROGRESS_EVERY` steps.

Longer than most modules: `TrainConfig` (every setting, checked) and the loop that reads it stay side by
side, so that a new setting and the code that honours it are one change in one file.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

import torch

from kd.augment import augment, check_share, coarsen, embolden
from kd.checks import is_number, is_whole
from kd.data import FIT_SIZE, MNIST, Split, check_limit, training_split
from kd.losses import check_hyperparameters, distillation_loss, mixed_label_loss, soft_target_loss
from kd.mixing import Mixed, MixKind, check_mix_alpha, mix
from kd.models import fuse_for_inference
from kd.predict import as_float_images, cached_logits, logits

PROGRESS_EVERY = 25  # optimiser steps between progress reports; each one reads the loss (a sync)
MAX_BATCH_SIZE = 4096
AUTO_MIN_STEPS = 625  # "auto" batch size: small enough that a run takes at least this many steps ...
AUTO_MAX_BATCH = 128  # ... but never larger than the full-budget recipe's batch
AUTO_MIN_BATCH = 16  # ... and never so small that BatchNorm's batch statistics get too noisy
FULL_BUDGET_LEARNING_RATE = 0.01  # "auto" peak learning rate for runs of SHORT_RUN_STEPS steps or more
SHORT_RUN_LEARNING_RATE, SHORT_RUN_STEPS = 0.03, 2000  # ... and below that
MixSetting = Literal["none", MixKind]  # TrainConfig.mix: no mixing, or a kind of kd.mixing.mix


class TrainingDiverged(ValueError):
    """The training loss became NaN or infinite; nothing is saved."""


@dataclass(frozen=True)
class TrainConfig:
    """The settings of one training run.

    With `mix` set (function matching, Beyer et al. 2022) every batch is mixed after augmentation
    and has no labels of its own: a distilled run (alpha > 0) then learns from the teacher's soft
    targets on the mixed batch alone, alpha only switching the teacher on; a scratch run
    (alpha = 0) learns from the mixed labels, lam * CE(y) + (1 - lam) * CE(y of the partner).
    """

    epochs: int = 10  # passes over the training set
    batch_size: int | None = None  # images per optimiser step; None = auto (see auto_batch_size)
    learning_rate: float | None = None  # peak of the one-cycle schedule (AdamW); None = auto
    weight_decay: float = 5e-4  # decoupled weight decay
    temperature: float = 4.0  # softening of both models' logits in the soft term
    alpha: float = 0.0  # share of the soft-target term: 0 = labels only, 1 = teacher only
    augment: bool = True  # random affine + stroke-thickness changes per batch
    limit: int | None = None  # train on a class-balanced subset of this many images that the seed picks
    seed: int = 0  # the subset, weights init, shuffling and augmentation
    device: str = "auto"  # "auto" picks CUDA when present
    mix: MixSetting = "none"  # function matching: students see mixed images; alpha > 0: teacher alone, 0: mixed labels
    mix_alpha: float = 1.0  # Beta(mix_alpha, mix_alpha) draws each batch's mixing weight; 1 = uniform
    bold: float = 0.0  # share of each batch inked much thicker (kd.augment.embolden), after augmentation
    coarse: float = 0.0  # share of each batch brought down to 8x8 and up again (kd.augment.coarsen), before mixing
    omit_digits: tuple[int, ...] = ()  # digits left out of the training images (validation and test keep them)

    def __post_init__(self) -> None:
        check_hyperparameters(self.temperature, self.alpha)
        if not (is_whole(self.epochs) and self.epochs >= 1):
            raise ValueError(f"epochs must be a whole number of at least 1, got {self.epochs!r}")
        if self.batch_size is not None and not (is_whole(self.batch_size) and 1 <= self.batch_size <= MAX_BATCH_SIZE):
            raise ValueError(
                f"batch_size must be auto or a whole number from 1 to {MAX_BATCH_SIZE}, got {self.batch_size!r}"
            )
        if self.learning_rate is not None and not (is_number(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be auto or a finite number > 0, got {self.learning_rate!r}")
        if not (is_number(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be a finite number >= 0, got {self.weight_decay!r}")
        check_limit(self.limit)
        if not is_whole(self.seed):
            raise ValueError(f"seed must be a whole number, got {self.seed!r}")
        if self.mix not in typing.get_args(MixSetting):
            raise ValueError(f"mix must be one of {', '.join(typing.get_args(MixSetting))}, got {self.mix!r}")
        check_mix_alpha(self.mix_alpha)
        check_share("bold", self.bold)
        check_share("coarse", self.coarse)
        object.__setattr__(self, "omit_digits", check_omit_digits(self.omit_digits))

    @property
    def teacher_every_batch(self) -> bool:
        """Whether a distilled run runs its teacher on each batch: augmentation, bold or coarse ink and mixing change
        the images every epoch, so their logits cannot be computed once and cached."""
        return self.alpha > 0 and (self.augment or self.bold > 0 or self.coarse > 0 or self.mix != "none")

    def resolved(self) -> TrainConfig:
        """This config with the batch size and learning rate its run uses (over `limit` or all FIT_SIZE images)."""
        images = self.limit or FIT_SIZE
        batch_size = self.batch_size or auto_batch_size(images, self.epochs)
        total_steps = math.ceil(images / batch_size) * self.epochs
        return replace(self, batch_size=batch_size, learning_rate=self.learning_rate or auto_learning_rate(total_steps))


def check_omit_digits(digits: object) -> tuple[int, ...]:
    """The digits to leave out, sorted and without repeats (JSON gives a list); ValueError unless some but not all."""
    if not (isinstance(digits, (tuple, list)) and all(is_whole(d) and 0 <= d <= 9 for d in digits)):
        raise ValueError(f"omit_digits must be digits from 0 to 9, got {digits!r}")
    chosen = tuple(sorted(set(digits)))
    if len(chosen) == 10:
        raise ValueError("omit_digits cannot leave out all ten digits: nothing would be left to train on")
    return chosen


def auto_batch_size(images: int, epochs: int) -> int:
    """The batch that gives a run at least AUTO_MIN_STEPS optimiser steps, within [16, 128].

    The full-budget recipe (50k images, batch 128, 391 steps an epoch) is tuned for thousands of
    steps; a dashboard run over 5,000 images for 2 epochs would get only 80 of them at batch 128.
    What a short run lacks is steps, not images. Chosen on validation (`python -m benchmarks.short_runs`,
    docs/results.md): at 5,000 x 2 and 1,000 x 3, distilled and scratch over 3 seeds, this rule's batch
    of 16 scored 98.24 % and 95.75 %, against 98.07 / 95.10 % at 32, 97.73 / 93.39 % at 64, 96.79 / 85.28 % at 128.
    """
    return max(AUTO_MIN_BATCH, min(AUTO_MAX_BATCH, images * epochs // AUTO_MIN_STEPS))


def auto_learning_rate(total_steps: int) -> float:
    """The peak learning rate: 0.01 for runs of thousands of steps, 0.03 for short ones.

    Chosen on validation (`python -m benchmarks.short_runs`, docs/results.md): on the short runs above a
    peak of 0.03 scored 98.24 % and 95.75 %, 0.01 98.13 / 95.72 % and 0.1 98.16 / 95.87 % (0.1's lead at
    1,000 x 3 is a third of its standard error, so the rule stands); on all 50,000 images for 10 epochs
    (3,910 steps), scratch, seeds 0 and 1: 0.01 and 0.03 both averaged 99.31 %, so 0.01 stays.
    """
    return FULL_BUDGET_LEARNING_RATE if total_steps >= SHORT_RUN_STEPS else SHORT_RUN_LEARNING_RATE


@dataclass(frozen=True)
class Progress:
    step: int  # optimiser steps done
    total_steps: int
    epoch: int  # 1-based epoch the step belongs to
    loss: float  # mean training loss over the steps since the previous report (the history has epoch means)
    elapsed: float  # seconds since training started
    validation_accuracy: float | None = None  # on the held-out validation images, set on each epoch's last step


@dataclass
class TrainResult:
    config: TrainConfig  # the config as run: batch size resolved
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
    threads: int | None = None,
) -> TrainResult:
    """Train `model` in place; with alpha > 0 it learns from `teacher` as well as the labels.

    Raises TrainingDiverged if the loss becomes NaN or infinite, Cancelled if `cancel` is set.
    """
    if config.alpha > 0 and teacher is None:
        raise ValueError("alpha > 0 needs a teacher")
    with seeded(config.seed), torch_threads(threads):
        split = training_split(data, config.limit, config.seed, config.omit_digits)
        loop = _Loop(model, data, split, config, teacher if config.alpha > 0 else None)
        return loop.run(on_progress, cancel)


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run a block with torch using `threads` threads (None: as it is), restoring the count afterwards.

    On a quiet machine all cores are fastest (a 60k-image epoch of the student: 6.6 s with two
    threads, 10.3 s with one). A training step of these small CNNs is a few milliseconds of many
    small kernels, though: when a second thread has to wait for a busy core (a shared 2-vCPU
    host, a server answering visitors) one step took 615 ms instead of 46 ms in our profile, so
    a server trains on one thread and keeps the other core for its visitors.
    """
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Loop:
    """One run's loop state: the images on the device, the optimiser and schedule, the teacher and the result."""

    def __init__(self, model: torch.nn.Module, data: MNIST, split: Split, config: TrainConfig, teacher):
        device = resolve_device(config.device)
        self.config, self.split, self.device = config.resolved(), split, device
        self.generator = torch.Generator().manual_seed(config.seed)
        # uint8 -> float once for the whole subset (157 MB at 50k), not once per batch
        self.images = as_float_images(split.images).to(device)
        self.labels = split.labels.to(device)
        # channels_last makes PyTorch's CPU convolutions markedly faster for these small nets
        self.model = model.to(device, memory_format=torch.channels_last).train()
        self.teacher, self.cached_teacher_logits = self._teacher(teacher, data)
        self.steps_per_epoch = math.ceil(len(self.images) / self.config.batch_size)
        self.total_steps = self.steps_per_epoch * self.config.epochs
        rate = self.config.learning_rate
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=rate, weight_decay=self.config.weight_decay)
        self.schedule = torch.optim.lr_scheduler.OneCycleLR(self.optimizer, rate, total_steps=self.total_steps)
        self.result, self.step = TrainResult(self.config), 0

    def _teacher(self, teacher: torch.nn.Module | None, data: MNIST):
        """(the teacher to run on each batch, its logits cached for the whole split): at most one is set.

        Without augmentation, bold or coarse ink or mixing every epoch shows the same images: the
        teacher's logits for them are computed once. Otherwise the teacher must see the very view the
        student sees (a "consistent teacher", Beyer et al. 2022), so it runs on each changed batch.
        """
        if teacher is None:
            return None, None
        teacher.to(self.device).eval()
        config = self.config
        if not config.teacher_every_batch:
            return None, cached_logits(teacher, self.split.images, data, self.split.key).to(self.device)
        # The same outputs from fewer layers: BatchNorm folded into the convolutions makes the
        # teacher's forward pass on each batch about 20 % cheaper (11.6 -> 9.4 ms at batch 128).
        return fuse_for_inference(teacher).to(memory_format=torch.channels_last), None

    def run(self, on_progress: Callable[[Progress], None] | None, cancel: threading.Event | None) -> TrainResult:
        self.on_progress, self.start = on_progress, time.perf_counter()
        for epoch in range(1, self.config.epochs + 1):
            self._epoch(epoch, cancel)
        self.model.eval()
        self.result.elapsed = time.perf_counter() - self.start
        return self.result

    def _epoch(self, epoch: int, cancel: threading.Event | None) -> None:
        """One pass; the loss is summed as a tensor and read only every PROGRESS_EVERY steps (one host sync)."""
        order = torch.randperm(len(self.images), generator=self.generator).to(self.device)
        batch_size = self.config.batch_size
        loss_sum = torch.zeros((), device=self.device)  # this epoch's, for its history row
        window_sum, window_start = torch.zeros((), device=self.device), 0  # since the last report: a curve with no
        for batch_index in range(self.steps_per_epoch):  # step down at each epoch's start, as a running mean would
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            loss = self._batch(order[batch_index * batch_size : (batch_index + 1) * batch_size])
            loss_sum += loss
            window_sum += loss
            last = batch_index == self.steps_per_epoch - 1
            if last or self.step % PROGRESS_EVERY == 0:
                window = window_sum / (batch_index + 1 - window_start)
                self._report(epoch, window, loss_sum / (batch_index + 1) if last else None)
                window_sum, window_start = torch.zeros((), device=self.device), batch_index + 1

    def _batch(self, index: torch.Tensor) -> torch.Tensor:
        """One optimiser step on the images at `index`; returns its loss, detached (not read: no sync)."""
        config, generator = self.config, self.generator
        batch = self.images[index]
        if config.augment:
            batch = augment(batch, generator)
        if config.bold > 0:
            batch = embolden(batch, generator, config.bold)
        if config.coarse > 0:
            batch = coarsen(batch, generator, config.coarse)
        mixed = None
        if config.mix != "none":
            mixed = mix(batch, generator, config.mix, config.mix_alpha)
            batch = mixed.images
        teacher_logits = None
        if self.cached_teacher_logits is not None:
            teacher_logits = self.cached_teacher_logits[index]
        elif self.teacher is not None:
            teacher_start = time.perf_counter()
            with torch.no_grad():  # not inference_mode: the loss saves these for backward
                teacher_logits = self.teacher(batch)
            self.result.teacher_seconds += time.perf_counter() - teacher_start
        loss = batch_loss(self.model(batch), teacher_logits, self.labels[index], mixed, config)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.schedule.step()
        self.step += 1
        return loss.detach()

    def _report(self, epoch: int, window_loss: torch.Tensor, epoch_loss: torch.Tensor | None) -> None:
        """Read the loss (the only host sync), stop a diverged run, validate at each epoch's end (epoch_loss given)."""
        loss = window_loss.item()
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"the training loss became {loss} at step {self.step} (epoch {epoch}); try a lower learning rate"
            )
        validation_accuracy = None
        if epoch_loss is not None:
            validation_accuracy = accuracy(self.model, self.split.validation_images, self.split.validation_labels)
        elapsed = time.perf_counter() - self.start
        progress = Progress(self.step, self.total_steps, epoch, loss, elapsed, validation_accuracy)
        if epoch_loss is not None:
            self.result.history.append(
                {"epoch": epoch, "loss": epoch_loss.item(), "validation_accuracy": validation_accuracy,
                 "elapsed": elapsed}
            )  # fmt: skip
        if self.on_progress is not None:
            self.on_progress(progress)


def batch_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor | None,
    labels: torch.Tensor,
    mixed: Mixed | None,
    config: TrainConfig,
) -> torch.Tensor:
    """One batch's loss: distillation_loss on plain batches; on mixed ones (labels have no meaning there)
    the teacher's soft targets alone when a teacher runs (function matching), else the mixed labels."""
    if mixed is None:
        return distillation_loss(student_logits, teacher_logits, labels, config.temperature, config.alpha)
    if teacher_logits is not None:
        return soft_target_loss(student_logits, teacher_logits, config.temperature)
    return mixed_label_loss(student_logits, labels, labels[mixed.index], mixed.lam)
