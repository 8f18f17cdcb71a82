"""A drawing's answers at several temperatures from one forward pass: softmax(logits / T) for each T.

The Draw pages show each model's answer at T = 1 and softened at the slider's T. Both come from
the same logits, so the model runs once per drawing, whichever runtime answers it (kd.infer:
ONNX Runtime where it is faster, else PyTorch). The softmax is kd.predict's, in float32 torch,
so the figures are those `predict_proba` gives at each temperature. A model trained without some
digits answers with the offset it recorded on their logits (kd.omitted.corrected, added here to the
logits of the runtime that answers, so its ONNX export stays the plain checkpoint's).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from kd.infer.sessions import OnnxModel, Predictor, TorchModel, as_batch
from kd.predict import logits


def digit_logits(predictor: Predictor, digit: np.ndarray) -> torch.Tensor:
    """The (10,) logits of one 28x28 digit in [0, 1], from the predictor's own runtime."""
    batch = as_batch(digit)
    if isinstance(predictor, OnnxModel):
        return torch.from_numpy(predictor.logits(batch))[0]
    if isinstance(predictor, TorchModel):
        return logits(predictor.model, torch.from_numpy(batch[:, 0]))[0]
    raise TypeError(f"no logits from a {type(predictor).__name__}")


def softened(
    predictor: Predictor, digit: np.ndarray, temperatures: Iterable[float], offset: torch.Tensor | None = None
) -> dict[float, np.ndarray]:
    """softmax((logits + offset) / T) as a (10,) array for each temperature, from one forward pass; ValueError for
    T <= 0. `offset`: (10,), kd.omitted.recorded_offset's, for a model trained without some digits."""
    wanted = [float(temperature) for temperature in temperatures]
    bad = [temperature for temperature in wanted if not temperature > 0]
    if bad:
        raise ValueError(f"temperature must be > 0, got {bad[0]!r}")
    scores = digit_logits(predictor, digit)
    if offset is not None:
        scores = scores + offset
    return {temperature: torch.softmax(scores / temperature, dim=0).numpy() for temperature in wanted}
