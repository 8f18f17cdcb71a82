"""Inference backends for drawings: ONNX Runtime where it is faster, PyTorch otherwise.

For one 28x28 image, PyTorch spends most of its time in per-call dispatch; ONNX Runtime runs the
same folded graph several times faster. `OnnxModel` answers with the same `predict_proba` as
`kd.predict`; `load_predictor` exports a checkpoint once into the cache directory (keyed by the
weights' checksum), times both runtimes on one image and keeps the faster. Nothing here breaks
a caller: a read-only cache keeps the export in memory, a failed export falls back to PyTorch,
each with a logged warning.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch

from kd import checkpoint
from kd.infer.export import OPSET, export_model
from kd.infer.sessions import OnnxModel, Predictor, TorchModel

log = logging.getLogger(__name__)
KEEP_CACHED_EXPORTS = 32  # every new model (and every test run) adds a file: keep the newest


def cache_dir() -> Path:
    from kd.data import default_cache_dir

    return default_cache_dir() / "onnx"


def cached_onnx(path: str | Path, model: torch.nn.Module, folder: Path | None = None) -> bytes:
    """The checked ONNX graph of checkpoint `path` (whose model is `model`), exported once per weights.

    The file is named by the weights' checksum, so a replaced checkpoint is exported again. If the
    cache cannot be written, the graph is used from memory and a warning says so.
    """
    folder = cache_dir() if folder is None else folder
    sha = checkpoint.read_metadata(path)["weights_sha256"]
    file = folder / f"{sha[:32]}-opset{OPSET}.onnx"
    try:
        return file.read_bytes()
    except OSError:
        pass  # not exported yet
    graph, _ = export_model(model, name=str(path))
    try:
        checkpoint.write_cache_file(file, graph, keep=KEEP_CACHED_EXPORTS)
    except OSError as exc:
        log.warning("could not cache the ONNX export of %s in %s (%s); using it from memory", path, folder, exc)
    return graph


def seconds_per_image(predictor: Predictor, calls: int = 10, budget: float = 0.1) -> float:
    """Median seconds for one image over up to `calls` calls (at least 3, within about `budget` seconds),
    after one untimed call: enough to tell 0.1 ms from 1 ms without delaying a page's start."""
    image = np.zeros((28, 28), np.float32)
    predictor.predict_proba(image)
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < 3 or (len(times) < calls and time.perf_counter() - started < budget):
        start = time.perf_counter()
        predictor.predict_proba(image)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def load_predictor(path: str | Path, model: torch.nn.Module, folder: Path | None = None) -> Predictor:
    """The faster of ONNX Runtime and PyTorch for checkpoint `path` at one image; PyTorch if export fails."""
    torch_model = TorchModel(model)
    try:
        onnx_model = OnnxModel(cached_onnx(path, model, folder))
    except Exception as exc:  # noqa: BLE001 - ONNX Runtime's errors share no base class; PyTorch still answers
        log.warning("ONNX Runtime is not used for %s (%s); PyTorch answers instead", path, exc)
        return torch_model
    timed = {candidate: seconds_per_image(candidate) for candidate in (onnx_model, torch_model)}
    return min(timed, key=timed.get)
