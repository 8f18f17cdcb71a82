"""Model outputs for images: batched logits for datasets, probabilities for drawings."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
from pathlib import Path

import numpy as np
import torch

from kd.checkpoint import weights_checksum, write_cache_file
from kd.data import MNIST

log = logging.getLogger(__name__)

KEEP_CACHED_LOGITS = 32  # files of cached logits kept beside the MNIST cache


def as_float_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 28, 28) in 0..255 -> float32 (B, 1, 28, 28) in [0, 1]; float input is kept as is."""
    if images.dtype == torch.uint8:
        images = images.float().div_(255.0)
    return images.reshape(-1, 1, 28, 28).contiguous(memory_format=torch.channels_last)


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.inference_mode()
def logits(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """Raw logits (N, 10) on the CPU for (N, 28, 28) images, in eval mode, in batches.

    The model's train/eval mode is restored even if a batch fails: the model may be shared.
    """
    was_training = model.training
    model.eval()
    try:
        device = model_device(model)
        outputs = [
            model(as_float_images(images[start : start + batch_size]).to(device)).float().cpu()
            for start in range(0, len(images), batch_size)
        ]
    finally:
        model.train(was_training)
    return torch.cat(outputs) if outputs else torch.empty(0, 10)


def cached_logits(model: torch.nn.Module, images: torch.Tensor, data: MNIST, key: str) -> torch.Tensor:
    """logits(model, images), computed once and kept beside the MNIST cache.

    A teacher's forward pass over 60k images costs more than a student's training epoch.
    `key` names which images these are (kd.data.Split.key, a checksum of their indices, or "test"); with
    the model's weights, the data checksum and the image count it makes a stale file unusable;
    a damaged file is removed and computed again, an unwritable folder means no caching.
    """
    full_key = f"{weights_checksum(model.state_dict())}:{data.checksum}:{key}:{len(images)}"
    folder = data.cache_path.parent / "logits"
    path = folder / f"{hashlib.sha256(full_key.encode()).hexdigest()[:20]}.npy"
    cached = _read_logits(path, len(images))
    if cached is not None:
        return cached
    computed = logits(model, images)
    buffer = io.BytesIO()
    np.save(buffer, computed.numpy())
    try:
        write_cache_file(path, buffer.getvalue(), keep=KEEP_CACHED_LOGITS)
    except OSError as exc:
        log.warning("cannot write the logits cache in %s (%s): working without it", folder, exc)
    return computed


def _read_logits(path: Path, count: int) -> torch.Tensor | None:
    """Cached logits of `count` images, or None; a damaged or foreign file is removed."""
    if not path.is_file():
        return None
    try:
        cached = np.load(path, allow_pickle=False)
        if cached.shape == (count, 10) and cached.dtype == np.float32 and np.isfinite(cached).all():
            return torch.from_numpy(cached)
        problem = f"shape {cached.shape}, dtype {cached.dtype}, expected ({count}, 10) finite float32"
    except Exception as exc:  # empty, truncated, not .npy at all: all mean compute again
        problem = f"{type(exc).__name__}: {exc}"
    log.warning("cached logits %s are damaged (%s): removing them and computing them again", path, problem)
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def predict_proba(model: torch.nn.Module, images: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax(logits / temperature) as (N, 10) for images (N, 28, 28) or one (28, 28) in [0, 1]."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    array = np.asarray(images, dtype=np.float32)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ValueError(f"expected images of shape (N, 28, 28) or (28, 28), got {array.shape}")
    scores = logits(model, torch.from_numpy(array))
    return torch.softmax(scores / temperature, dim=1).numpy()
