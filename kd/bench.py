"""Inference latency and throughput, measured on this host after warm-up.

Models run under torch.inference_mode() with BatchNorm folded into the convolutions, as a
deployed model would. Each batch size is timed `repeats` times; latency is reported as
p50 / p95 in milliseconds and throughput as images per second at the median.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from kd.models import count_parameters, fuse_for_inference
from kd.predict import predict_proba
from kd.preprocess import canvas_to_mnist


def time_batches(model: torch.nn.Module, batch_size: int, repeats: int, warmup: int) -> np.ndarray:
    """Seconds per forward pass of one batch, `repeats` times after `warmup` untimed passes."""
    images = torch.rand(batch_size, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    times = []
    with torch.inference_mode():
        for index in range(warmup + repeats):
            start = time.perf_counter()
            model(images)
            if index >= warmup:
                times.append(time.perf_counter() - start)
    return np.array(times)


def benchmark(
    models: dict[str, torch.nn.Module],
    batch_sizes: tuple[int, ...] = (1, 1000),
    repeats: int = 50,
    warmup: int = 10,
    threads: int | None = None,
) -> list[dict]:
    """One row per (model, batch size): p50/p95 latency in ms and throughput in images/s.

    Models are timed in turn for each batch size, so that all see the same machine state.
    `threads` sets torch's intra-op threads for the measurement (default: as configured).
    """
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return [row for batch_size in batch_sizes for row in _benchmark_batch(models, batch_size, repeats, warmup)]
    finally:
        torch.set_num_threads(previous)


def _benchmark_batch(models: dict[str, torch.nn.Module], batch_size: int, repeats: int, warmup: int) -> list[dict]:
    # large batches take long: fewer repeats keep the total time bounded
    batch_repeats = max(5, min(repeats, repeats * 64 // batch_size))
    rows = []
    for name, model in models.items():
        model = fuse_for_inference(model).to(memory_format=torch.channels_last)
        seconds = time_batches(model, batch_size, batch_repeats, warmup=min(warmup, batch_repeats))
        p50, p95 = np.percentile(seconds, [50, 95])
        rows.append(
            {
                "model": name,
                "batch_size": batch_size,
                "p50_ms": float(p50 * 1e3),
                "p95_ms": float(p95 * 1e3),
                "throughput": float(batch_size / p50),
                "repeats": int(batch_repeats),
                "parameters": count_parameters(model),
                "threads": torch.get_num_threads(),
            }
        )
    return rows


def canvas_latency(models: dict[str, torch.nn.Module], canvas: np.ndarray, repeats: int = 50) -> dict[str, float]:
    """What a drawing costs: canvas_to_mnist plus predict_proba of every model, p50/p95 in ms."""
    times = []
    for index in range(repeats + 5):  # the first 5 are warm-up
        start = time.perf_counter()
        image = canvas_to_mnist(canvas)
        for model in models.values():
            predict_proba(model, image)
        if index >= 5:
            times.append(time.perf_counter() - start)
    p50, p95 = np.percentile(times, [50, 95])
    return {"p50_ms": float(p50 * 1e3), "p95_ms": float(p95 * 1e3), "models": list(models)}
