"""Inference latency and throughput, measured on this host after warm-up.

Models run under torch.inference_mode() with BatchNorm folded into the convolutions, as a
deployed model would, or as the same folded graph exported to ONNX and run by ONNX Runtime
(sequential execution, as many intra-op threads as torch uses), side by side in one process.
Each batch size is timed `repeats` times (PyTorch's models taking turns call by call); latency
is reported as p50 / p95 in milliseconds and throughput as images per second at the median.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable

import numpy as np
import torch

from kd.models import count_parameters, fuse_for_inference
from kd.predict import predict_proba
from kd.preprocess import canvas_to_mnist

RUNTIMES = {"torch": "PyTorch", "onnx": "ONNX Runtime"}  # the runtimes benchmark() can time, and their names


def host() -> str:
    """This machine in words, as every latency figure is labelled: architecture, cores, torch version."""
    return f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__.split('+')[0]}"


def time_in_turns(calls: list[Callable[[], object]], repeats: int, warmup: int) -> list[np.ndarray]:
    """Seconds per call of each of `calls`, `repeats` times after `warmup` untimed rounds.

    The calls take turns, one each per round, so a slow spell of the host (a busy neighbour on
    a shared VM) falls on all of them alike instead of on whichever was being timed then: timed
    one after the other, in blocks of a few dozen milliseconds each, the student's speed-up at
    batch 1 ranged from 1.9x to 3.7x between runs of `python -m kd report` on one quiet VM.
    """
    times: list[list[float]] = [[] for _ in calls]
    for index in range(warmup + repeats):
        for call, seconds in zip(calls, times, strict=True):
            start = time.perf_counter()
            call()
            if index >= warmup:
                seconds.append(time.perf_counter() - start)
    return [np.array(seconds) for seconds in times]


def batch_call(
    model: torch.nn.Module, batch_size: int, runtime: str, graph: bytes | None = None
) -> Callable[[], object]:
    """One forward pass of a random batch, by PyTorch (call it under inference_mode) or by ONNX Runtime.

    ONNX Runtime runs the model exported to ONNX (`graph`, exported here if not given) on torch's thread count.
    """
    if runtime == "torch":
        images = torch.rand(batch_size, 1, 28, 28).contiguous(memory_format=torch.channels_last)
        return lambda: model(images)
    from kd.infer.export import onnx_bytes
    from kd.infer.sessions import OnnxModel

    runner = OnnxModel(graph or onnx_bytes(model), threads=torch.get_num_threads())
    images = np.random.default_rng(0).random((batch_size, 1, 28, 28), dtype=np.float32)
    return lambda: runner.logits(images)


def benchmark(
    models: dict[str, torch.nn.Module],
    batch_sizes: tuple[int, ...] = (1, 1000),
    repeats: int = 50,
    warmup: int = 10,
    threads: int | None = None,
    runtimes: tuple[str, ...] = ("torch",),
    deadline: float | None = None,
) -> list[dict]:
    """One row per (batch size, model, runtime): p50/p95 latency in ms and throughput in images/s.

    For each batch size PyTorch's models take turns call by call, so that all see the same
    machine state (see time_in_turns); ONNX Runtime's sessions are timed one after another, one
    session alive at a time.
    `threads` sets torch's (and ONNX Runtime's) intra-op threads for the measurement (default: as
    configured). `runtimes` picks from RUNTIMES; each row says which one it measured.
    `deadline` (a time.monotonic() value): a batch size that would end after it is not timed, nor any
    after it; its time is foreseen from the last two (a fixed cost per pass plus a cost per image).
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
        # each model exported once (its batch axis is dynamic), not once per batch size: seconds per model
        graphs = {name: _export(model) for name, model in models.items()} if "onnx" in runtimes else {}
        rows: list[dict] = []
        per_pass: list[tuple[int, float]] = []  # (batch size, seconds per pass of every model) so far
        for batch_size in batch_sizes:
            if deadline is not None and rows:
                foreseen = _foreseen_pass(per_pass, batch_size) * _passes(batch_size, repeats, warmup)
                if time.monotonic() + foreseen > deadline:
                    break
            started = time.monotonic()
            rows += _benchmark_batch(models, graphs, batch_size, repeats, warmup, runtimes)
            per_pass.append((batch_size, (time.monotonic() - started) / _passes(batch_size, repeats, warmup)))
        return rows
    finally:
        torch.set_num_threads(previous)


def _foreseen_pass(per_pass: list[tuple[int, float]], batch_size: int) -> float:
    """Seconds per pass at `batch_size`, on the line through the last two batch sizes timed (the last one alone:
    the same; a small batch's time is mostly a fixed cost per call, a large one's grows with its images)."""
    if len(per_pass) < 2:
        return per_pass[-1][1]
    (size_a, seconds_a), (size_b, seconds_b) = per_pass[-2:]
    per_image = max(0.0, (seconds_b - seconds_a) / (size_b - size_a))
    return seconds_b + per_image * (batch_size - size_b)


def _repeats(batch_size: int, repeats: int) -> int:
    """Timed passes at this batch size: large batches take long, so fewer repeats keep the total time bounded."""
    return max(5, min(repeats, repeats * 64 // batch_size))


def _passes(batch_size: int, repeats: int, warmup: int) -> int:
    """Every pass at this batch size, timed or not."""
    timed = _repeats(batch_size, repeats)
    return timed + min(warmup, timed)


def _export(model: torch.nn.Module) -> bytes:
    from kd.infer.export import onnx_bytes

    return onnx_bytes(model)


def _benchmark_batch(
    models: dict[str, torch.nn.Module],
    graphs: dict[str, bytes],
    batch_size: int,
    repeats: int,
    warmup: int,
    runtimes: tuple[str, ...],
) -> list[dict]:
    batch_repeats = _repeats(batch_size, repeats)
    fused = {name: fuse_for_inference(model).to(memory_format=torch.channels_last) for name, model in models.items()}
    pairs, timings = [], []
    for runtime in runtimes:
        # Thread pools must not take turns: after a call a pool's threads spin for a while and
        # slow the next pool down. Torch's models share one pool and take turns call by call;
        # each ONNX Runtime session has its own, so those are timed one after another, each
        # session made just before it is timed and freed before the next (~100 MB at batch 1024).
        groups = [list(fused)] if runtime == "torch" else [[name] for name in fused]
        with torch.inference_mode():
            for names in groups:
                calls = [batch_call(fused[name], batch_size, runtime, graphs.get(name)) for name in names]
                timings += time_in_turns(calls, batch_repeats, warmup=min(warmup, batch_repeats))
                del calls  # the last reference to an ONNX Runtime session: freed before the next is made
        pairs += [(name, runtime) for name in fused]
    rows = []
    for (name, runtime), seconds in zip(pairs, timings, strict=True):
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
                "parameters": count_parameters(fused[name]),
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
