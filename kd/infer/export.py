"""ONNX export: a checkpoint becomes a `.onnx` file that ONNX Runtime (Python or the browser) can run.

The exported graph is the deployed form of the model: BatchNorm folded into the convolutions
(`kd.models.fuse_for_inference`), input `images` of shape (N, 1, 28, 28) float32 in [0, 1] with a
dynamic batch axis, output `logits` (N, 10). Every export is checked against PyTorch on MNIST
test digits before it is written: a model whose probabilities differ by more than
`PARITY_TOLERANCE` is refused, so a file on disk is always one that answers like its checkpoint.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kd import checkpoint
from kd.infer.sessions import OnnxModel
from kd.models import fuse_for_inference
from kd.omitted import Corrected, recorded_offset
from kd.predict import predict_proba

OPSET = 17  # supported by onnxruntime and onnxruntime-web alike
PARITY_TOLERANCE = 1e-5  # largest allowed difference between PyTorch's and ONNX Runtime's probabilities
PARITY_IMAGES = 256  # MNIST test digits the check runs on


class ExportError(ValueError):
    """An export that does not answer like its checkpoint."""


def onnx_bytes(model: torch.nn.Module, offset: torch.Tensor | None = None) -> bytes:
    """The ONNX graph of a fused copy of `model` (the model itself is left as it is), `offset` added to its
    logits where given (kd.omitted: a model trained without some digits, corrected)."""
    fused = fuse_for_inference(model).float().cpu().to(memory_format=torch.contiguous_format)
    if offset is not None:
        fused = Corrected(fused, offset)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # the TorchScript exporter is the one that needs no onnxscript; its deprecation notice is noise here
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        warnings.filterwarnings("ignore", message=".*feature will be removed.*")
        torch.onnx.export(
            fused,
            (torch.zeros(1, 1, 28, 28),),
            buffer,
            input_names=["images"],
            output_names=["logits"],
            dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return buffer.getvalue()


def parity_images(count: int = PARITY_IMAGES) -> np.ndarray:
    """The first `count` MNIST test digits as float32 (count, 28, 28) in [0, 1], as kd.predict feeds them."""
    from kd.data import load_mnist

    return load_mnist().test_images[:count].numpy().astype(np.float32) / 255.0


def parity_gap(model: torch.nn.Module, graph: bytes, images: np.ndarray) -> float:
    """Largest absolute difference between PyTorch's and ONNX Runtime's probabilities on `images`."""
    expected = predict_proba(model, images)
    got = OnnxModel(graph).predict_proba(images)
    return float(np.abs(expected - got).max())


def export_model(
    model: torch.nn.Module, images: np.ndarray | None = None, name: str = "model", offset: torch.Tensor | None = None
) -> tuple[bytes, float]:
    """The checked ONNX graph of `model` (with `offset` on its logits, if given) and its parity gap; ExportError if
    it does not answer like PyTorch."""
    graph = onnx_bytes(model, offset)
    reference = model if offset is None else Corrected(model, offset).eval()
    gap = parity_gap(reference, graph, parity_images() if images is None else images)
    if not gap <= PARITY_TOLERANCE:
        raise ExportError(
            f"{name}: the ONNX export differs from PyTorch by {gap:.2e} on the probabilities "
            f"(limit {PARITY_TOLERANCE:g}); nothing written"
        )
    return graph, gap


@dataclass(frozen=True)
class Export:
    """A checkpoint's checked ONNX graph, in memory until written."""

    checkpoint: Path
    metadata: dict[str, Any]
    name: str  # the file name's stem: the checkpoint's, "-corrected" added where the offset is in the graph
    graph: bytes
    parity_gap: float  # largest probability difference from PyTorch on the parity images
    parity_images: int


def prepare(path: str | Path, images: np.ndarray | None = None, corrected: bool = False) -> Export:
    """Load checkpoint `path`, export it and check it against PyTorch; nothing is written.

    corrected: with the logit offset the checkpoint records for the digits it trained without (kd.omitted);
    a checkpoint without one exports as it is.
    """
    path = Path(path)
    metadata = checkpoint.read_metadata(path)
    images = parity_images() if images is None else images
    offset = recorded_offset(metadata) if corrected else None
    graph, gap = export_model(checkpoint.load(path), images, name=str(path), offset=offset)
    name = path.stem + ("-corrected" if offset is not None else "")
    return Export(path, metadata, name, graph, gap, len(images))


def write(exported: Export, out: str | Path) -> dict[str, Any]:
    """Write out/<name>.onnx and out/<name>.json (the checkpoint's metadata), each atomically."""
    onnx_path = Path(out) / f"{exported.name}.onnx"
    checkpoint.atomic_write(onnx_path, exported.graph)
    checkpoint.atomic_write_json(onnx_path.with_suffix(".json"), exported.metadata)
    return {
        "checkpoint": str(exported.checkpoint),
        "onnx": str(onnx_path),
        "metadata": str(onnx_path.with_suffix(".json")),
        "bytes": len(exported.graph),
        "parity_max_abs_diff": exported.parity_gap,
        "parity_images": exported.parity_images,
        "weights_sha256": exported.metadata["weights_sha256"],
    }
