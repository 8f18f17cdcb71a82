"""Two runtimes behind one `predict_proba`: ONNX Runtime sessions (`OnnxModel`) and PyTorch (`TorchModel`).

Kept apart from the export (kd/infer/export.py, which checks a graph with `OnnxModel`) and from
the choice between runtimes (kd/infer/runtime.py, which exports and times), so neither imports the other's user.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime
import torch

from kd.predict import predict_proba


def session_options(threads: int = 1) -> onnxruntime.SessionOptions:
    """Sequential execution on `threads` intra-op threads: one small graph gains nothing from more."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: ONNX Runtime's notices are not the visitor's business
    return options


def as_batch(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) or (28, 28) images in [0, 1] -> float32 (N, 1, 28, 28), as kd.predict takes them."""
    array = np.asarray(images, dtype=np.float32)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ValueError(f"expected images of shape (N, 28, 28) or (28, 28), got {array.shape}")
    return np.ascontiguousarray(array[:, None])


class OnnxModel:
    """An exported model (a path or the graph's bytes) run by ONNX Runtime on the CPU."""

    runtime = "onnx"

    def __init__(self, graph: bytes | str | Path, threads: int = 1):
        source = str(graph) if isinstance(graph, Path) else graph
        self.session = onnxruntime.InferenceSession(
            source, session_options(threads), providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw logits (N, 10) for a float32 (N, 1, 28, 28) batch."""
        return self.session.run(None, {self.input_name: batch})[0]

    def predict_proba(self, images: np.ndarray, temperature: float = 1.0) -> np.ndarray:
        """Softmax(logits / temperature) as (N, 10), exactly as kd.predict.predict_proba computes it."""
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        scores = torch.from_numpy(self.logits(as_batch(images)))
        return torch.softmax(scores / temperature, dim=1).numpy()


@dataclass(frozen=True)
class TorchModel:
    """A PyTorch model behind the same predict_proba as OnnxModel."""

    model: torch.nn.Module
    runtime = "torch"

    def predict_proba(self, images: np.ndarray, temperature: float = 1.0) -> np.ndarray:
        return predict_proba(self.model, images, temperature=temperature)


class Predictor(Protocol):
    runtime: str

    def predict_proba(self, images: np.ndarray, temperature: float = 1.0) -> np.ndarray: ...
