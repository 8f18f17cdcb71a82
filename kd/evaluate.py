"""Test-set evaluation, returned as plain data: the tables of the original experiment and more.

Per-class precision / recall / F1 / support with macro and weighted averages, confusion
matrix, expected calibration error with its reliability bins, agreement with a reference
model (the teacher), parameter count and size on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from kd.data import MNIST
from kd.models import count_parameters
from kd.predict import cached_logits, logits

CALIBRATION_BINS = 15  # equal-width confidence bins for ECE (Guo et al., 2017)


def calibration(probabilities: np.ndarray, labels: np.ndarray, bins: int = CALIBRATION_BINS) -> dict[str, Any]:
    """Expected calibration error and the reliability diagram's bins (empty bins omitted)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        mean_confidence, bin_accuracy = float(confidence[mask].mean()), float(correct[mask].mean())
        ece += mask.mean() * abs(mean_confidence - bin_accuracy)
        rows.append(
            {
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "confidence": mean_confidence,
                "accuracy": bin_accuracy,
                "count": int(mask.sum()),
            }
        )
    return {"ece": float(ece), "bins": rows}


def classification_report(predictions: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Per-class precision / recall / F1 / support, macro and weighted averages, confusion matrix.

    The same figures as scikit-learn's `precision_recall_fscore_support` (zero_division=0),
    computed from the confusion matrix with numpy: importing scikit-learn costs seconds at start-up.
    """
    confusion = np.bincount(labels * 10 + predictions, minlength=100).reshape(10, 10)
    true_positives = np.diag(confusion).astype(float)
    support, predicted = confusion.sum(axis=1), confusion.sum(axis=0)
    precision = np.divide(true_positives, predicted, out=np.zeros(10), where=predicted > 0)
    recall = np.divide(true_positives, support, out=np.zeros(10), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(10), where=both > 0)
    per_class = [
        {
            "class": c,
            "precision": float(precision[c]),
            "recall": float(recall[c]),
            "f1": float(f1[c]),
            "support": int(support[c]),
        }
        for c in range(10)
    ]
    averages = {}
    for average, weights in (("macro", np.ones(10) / 10), ("weighted", support / max(support.sum(), 1))):
        averages[average] = {
            "precision": float(precision @ weights),
            "recall": float(recall @ weights),
            "f1": float(f1 @ weights),
            "support": int(len(labels)),
        }
    return {"per_class": per_class, **averages, "confusion": confusion.tolist()}


def evaluate(
    model: torch.nn.Module,
    data: MNIST,
    reference: torch.nn.Module | None = None,
    checkpoint_path: str | Path | None = None,
    model_logits: torch.Tensor | None = None,
) -> dict[str, Any]:
    """All test-set metrics for `model`; agreement is measured against `reference` if given.

    `model_logits`: the model's test-set logits if the caller has them already (kd.pipeline scores the
    omitted digits from the same logits), so the test set is not run twice.
    """
    labels = data.test_labels.numpy()
    if model_logits is None:
        model_logits = logits(model, data.test_images)
    probabilities = torch.softmax(model_logits, dim=1).numpy()
    predictions = probabilities.argmax(axis=1)
    result: dict[str, Any] = {
        "accuracy": float((predictions == labels).mean()),
        "errors": int((predictions != labels).sum()),
        "test_size": int(len(labels)),
        **classification_report(predictions, labels),
        "calibration": calibration(probabilities, labels),
        "parameters": count_parameters(model),
    }
    result["ece"] = result["calibration"]["ece"]
    result["correct"] = pack_correct(predictions == labels)
    if reference is not None:
        reference_predictions = cached_logits(reference, data.test_images, data, "test").argmax(1).numpy()
        result["agreement"] = float((reference_predictions == predictions).mean())
    if checkpoint_path is not None:
        result["size_bytes"] = Path(checkpoint_path).stat().st_size
    return result


def pack_correct(correct: np.ndarray) -> str:
    """Which test digits a model gets right, 8 to a byte in hex (2,500 characters for 10,000 digits): enough to
    compare two models digit by digit (McNemar's test) from their checkpoints alone, without MNIST or a forward pass."""
    return np.packbits(np.asarray(correct, dtype=bool)).tobytes().hex()


def unpack_correct(packed: str, size: int) -> np.ndarray:
    """`pack_correct`'s booleans back, `size` of them."""
    return np.unpackbits(np.frombuffer(bytes.fromhex(packed), np.uint8))[:size].astype(bool)


def disagreements(model_a: torch.nn.Module, model_b: torch.nn.Module, data: MNIST, limit: int = 40) -> list[dict]:
    """Test digits where the two models disagree or are both wrong, in test-set order."""
    labels = data.test_labels.numpy()
    a = logits(model_a, data.test_images).argmax(1).numpy()
    b = logits(model_b, data.test_images).argmax(1).numpy()
    indices = np.flatnonzero((a != b) | ((a != labels) & (b != labels)))[:limit]
    return [
        {"index": int(i), "label": int(labels[i]), "prediction_a": int(a[i]), "prediction_b": int(b[i])}
        for i in indices
    ]
