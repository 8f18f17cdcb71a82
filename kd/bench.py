"""Inference latency and throughput, measured on this host after warm-up.

Models run under torch.inference_mode() with BatchNorm folded into the convolutions, as a
deployed model would, or as the same folded graph exported to ONNX and run by ONNX Runtime
(sequential execution, as many intra-op threads as torch uses), side by side in one process.
Each batch size is timed `repeats` times; latency is reported as p50 / p95 in milliseconds and
throughput as images per second at the median.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from kd.models import count_parameters, fuse_for_inference
from kd.predict import predict_proba
from kd.preprocess import canvas_to_mnist

RUNTIMES = {"torch": "PyTorch", "onnx": "ONNX Runtime"}  # the runtimes benchmark() can time, and their names


def time_calls(call, repeats: int, warmup: int) -> np.ndarray:
    """Seconds per call of `call()`, `repeats` times after `warmup` untimed calls."""
    times = []
    for index in range(warmup + repeats):
        start = time.perf_counter()
        call()
        if index >= warmup:
            times.append(time.perf_counter() - start)
    return np.array(times)


def time_batches(model: torch.nn.Module, batch_size: int, repeats: int, warmup: int) -> np.ndarray:
    """Seconds per forward pass of one batch, `repeats` times after `warmup` untimed passes."""
    images = torch.rand(batch_size, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        return time_calls(lambda: model(images), repeats, warmup)


def time_onnx_batches(model: torch.nn.Module, batch_size: int, repeats: int, warmup: int) -> np.ndarray:
    """time_batches for the model exported to ONNX and run by ONNX Runtime on torch's thread count."""
    from kd.export import onnx_bytes
    from kd.runtime import OnnxModel

    runner = OnnxModel(onnx_bytes(model), threads=torch.get_num_threads())
    images = np.random.default_rng(0).random((batch_size, 1, 28, 28), dtype=np.float32)
    return time_calls(lambda: runner.logits(images), repeats, warmup)


def benchmark(
    models: dict[str, torch.nn.Module],
    batch_sizes: tuple[int, ...] = (1, 1000),
    repeats: int = 50,
    warmup: int = 10,
    threads: int | None = None,
    runtimes: tuple[str, ...] = ("torch",),
) -> list[dict]:
    """One row per (batch size, model, runtime): p50/p95 latency in ms and throughput in images/s.

    Models are timed in turn for each batch size, so that all see the same machine state.
    `threads` sets torch's (and ONNX Runtime's) intra-op threads for the measurement (default: as
    configured). `runtimes` picks from RUNTIMES; each row says which one it measured.
    """
    unknown = sorted(set(runtimes) - set(RUNTIMES))
    if unknown or not runtimes:
        raise ValueError(
            f"unknown runtime(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(RUNTIMES)}"
        )
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return [
            row for batch_size in batch_sizes for row in _benchmark_batch(models, batch_size, repeats, warmup, runtimes)
        ]
    finally:
        torch.set_num_threads(previous)


def _benchmark_batch(
    models: dict[str, torch.nn.Module], batch_size: int, repeats: int, warmup: int, runtimes: tuple[str, ...]
) -> list[dict]:
    # large batches take long: fewer repeats keep the total time bounded
    batch_repeats = max(5, min(repeats, repeats * 64 // batch_size))
    timers = {"torch": time_batches, "onnx": time_onnx_batches}
    rows = []
    for (name, model), runtime in ((item, runtime) for item in models.items() for runtime in runtimes):
        model = fuse_for_inference(model).to(memory_format=torch.channels_last)
        seconds = timers[runtime](model, batch_size, batch_repeats, warmup=min(warmup, batch_repeats))
        p50, p95 = np.percentile(seconds, [50, 95])
        rows.append(
            {
                "model": name,
                "runtime": runtime,
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
