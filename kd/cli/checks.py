"""Checks of command-line arguments that need no data, run before any work: a bad flag costs nothing.

`--out` never silently replaces a file (the shipped teacher, `results.json`) and must be writable
before training starts; `--device` must name a device this machine has; benchmark sizes are capped.
The training settings themselves are checked by `kd.train.TrainConfig`, also before any work.
"""

from __future__ import annotations

import re
import tempfile

from kd.checkpoint import metadata_path, weights_path

DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d{1,3})?)$")
MAX_BENCH_BATCH = 10_000  # images per benchmarked batch: the test set's size
MAX_REPEATS = 100_000  # timed passes per batch size
MAX_THREADS = 1024  # torch threads for a benchmark


class UsageError(Exception):
    """Bad command-line input."""


def parse_batch_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--batch-sizes must be comma-separated whole numbers, got {text!r}") from None
    if not sizes or min(sizes) < 1 or max(sizes) > MAX_BENCH_BATCH:
        raise UsageError(f"--batch-sizes must all be between 1 and {MAX_BENCH_BATCH:,}, got {text!r}")
    return sizes


def check_device(name: str) -> None:
    """--device must name a device this machine has: auto, cpu, cuda, cuda:N or mps."""
    import torch

    if not DEVICE.match(name):
        raise UsageError(f"--device must be auto, cpu, cuda, cuda:N or mps, got {name!r}")
    if name.startswith("cuda"):
        index = int(name.partition(":")[2] or 0)
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise UsageError(
                f"--device {name}: no such CUDA device on this machine ({torch.cuda.device_count()} found)"
            )
    if name == "mps" and not torch.backends.mps.is_available():
        raise UsageError("--device mps: Apple's MPS is not available on this machine")


def check_out(out: str, force: bool) -> None:
    """Refuse to replace existing files (a shipped checkpoint, results.json) without --force; check writability.

    Done before any data is loaded or any step trained: a bad --out must not cost a training run.
    """
    targets = [weights_path(out), metadata_path(out)]  # only .safetensors is an extension: runs/alpha-0.9
    for target in targets:
        if target.is_dir():
            raise UsageError(f"--out {out}: {target} is a folder")
        if target.exists() and not force:
            raise UsageError(f"--out {out}: {target} already exists; pass --force to replace it")
    folder = next(parent for parent in targets[0].absolute().parents if parent.exists())
    if not folder.is_dir():
        raise UsageError(f"--out {out}: {folder} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write in {folder} ({exc.strerror or exc})") from None


def check_before_work(args) -> None:
    """Checks of arguments that need no data: all of them run before anything is loaded or trained."""
    if getattr(args, "device", None) is not None:
        check_device(args.device)
    if getattr(args, "out", None) is not None and args.command in ("train-teacher", "distill"):
        check_out(args.out, args.force)
    if args.command == "bench":
        parse_batch_sizes(args.batch_sizes)
        if args.repeats > MAX_REPEATS:
            raise UsageError(f"--repeats must be at most {MAX_REPEATS:,}, got {args.repeats}")
        if args.threads is not None and args.threads > MAX_THREADS:
            raise UsageError(f"--threads must be at most {MAX_THREADS}, got {args.threads}")
