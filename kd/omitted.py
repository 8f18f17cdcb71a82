"""Digits left out of training, and the one logit offset that lets a model read them (Hinton et al. 2015, section 3).

A student distilled without a single 3 still learns much of what a 3 is from the teacher's soft
answers on the other digits; what it lacks is the prior: its logit for 3 sits too low. The paper
raises the bias of class 3 (by 3.5), or lowers those of the only digits seen (7 and 8, by 7.6).
Both are one offset added to the omitted digits' logits (adding c to some logits is, for the
answer, the same as subtracting c from the others). The offset is chosen on the validation
images (RULE), never on the test set, and stored in the checkpoint beside the plain model:
`kd.checkpoint.load` returns the model as trained; `corrected` wraps it with the offset.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

OFFSETS = np.round(np.arange(0.0, 20.0001, 0.1), 1)  # the offsets tried on validation, in logits
RULE = (
    "the offset added to the omitted digits' logits, from 0 to 20 in steps of 0.1, with the fewest errors on the "
    "10,000 validation images; of tied offsets, the smallest"
)


def offset_vector(digits: tuple[int, ...], offset: float) -> torch.Tensor:
    """(10,) float32: `offset` at the omitted digits, 0 elsewhere: what is added to each row of logits."""
    vector = torch.zeros(10)
    vector[list(digits)] = float(offset)
    return vector


def choose_offset(validation_logits: torch.Tensor, validation_labels: torch.Tensor, digits: tuple[int, ...]) -> float:
    """The offset RULE picks: validation images only (their logits (N, 10) and labels (N,))."""
    errors = [
        int(((validation_logits + offset_vector(digits, offset)).argmax(1) != validation_labels).sum())
        for offset in OFFSETS
    ]
    return float(OFFSETS[int(np.argmin(errors))])  # argmin takes the first, the smallest, of tied offsets


def scores(logits: torch.Tensor, labels: torch.Tensor, digits: tuple[int, ...], offset: float = 0.0) -> dict[str, Any]:
    """Errors, accuracy and the recall of each omitted digit, with `offset` added to their logits."""
    predictions = (logits + offset_vector(digits, offset)).argmax(1)
    right = predictions == labels
    return {
        "errors": int((~right).sum()),
        "accuracy": float(right.float().mean()),
        "recall": {str(digit): float(right[labels == digit].float().mean()) for digit in digits},
    }


def record(
    digits: tuple[int, ...],
    validation: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
) -> dict[str, Any]:
    """What a checkpoint stores of its omitted digits: the offset chosen on validation, and both sets' scores
    before and after it. `validation` and `test` are (logits, labels); the test set is only scored."""
    offset = choose_offset(*validation, digits)
    return {
        "digits": list(digits),
        "offset": offset,
        "rule": RULE,
        "validation": {"before": scores(*validation, digits), "after": scores(*validation, digits, offset)},
        "test": {"before": scores(*test, digits), "after": scores(*test, digits, offset)},
    }


class Corrected(nn.Module):
    """A model with a constant added to its logits: the omitted digits' offset, as one module (exports as one graph)."""

    def __init__(self, model: nn.Module, offset: torch.Tensor):
        super().__init__()
        self.model = model
        self.register_buffer("offset", offset)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images) + self.offset


def recorded_offset(metadata: dict[str, Any]) -> torch.Tensor | None:
    """The (10,) offset a checkpoint records for its omitted digits; None where nothing was omitted."""
    omitted = metadata.get("omitted")
    return offset_vector(tuple(omitted["digits"]), omitted["offset"]) if omitted else None


def corrected(model: nn.Module, metadata: dict[str, Any]) -> nn.Module:
    """The model with its recorded offset; the model itself where nothing was omitted."""
    offset = recorded_offset(metadata)
    return model if offset is None else Corrected(model, offset).eval()
