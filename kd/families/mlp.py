"""The MLP family: fully connected ReLU layers on the flattened 28x28 image, as in Hinton, Vinyals & Dean (2015).

Section 3 of the paper distils on MNIST between two such nets: a teacher of two hidden layers of
1,200 units trained with dropout and inputs jittered by up to two pixels, and a student of two
hidden layers of 800 units with no regularisation. MLP_TEACHER and MLP_STUDENT are those two.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

MAX_HIDDEN_LAYERS = 16  # hidden layers a checkpoint's header may declare
MAX_UNITS = 8192  # units in one hidden layer


@dataclass(frozen=True)
class MLPConfig:
    hidden: tuple[int, ...]  # units per hidden layer
    dropout: float = 0.0  # dropout after each hidden layer (the paper's teacher: 0.5)
    input_dropout: float = 0.0  # dropout on the pixels (the paper's teacher: 0.2)
    num_classes: int = 10


MLP_TEACHER = MLPConfig(hidden=(1200, 1200), dropout=0.5, input_dropout=0.2)
MLP_STUDENT = MLPConfig(hidden=(800, 800))


class MLP(nn.Module):
    def __init__(self, config: MLPConfig):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = [nn.Flatten(), nn.Dropout(config.input_dropout)]
        inputs = 28 * 28
        for units in config.hidden:
            layers += [nn.Linear(inputs, units), nn.ReLU(inplace=True), nn.Dropout(config.dropout)]
            inputs = units
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(inputs, config.num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(images))  # (B, 1, 28, 28) or (B, 28, 28) -> (B, 10)


def check(config: dict[str, Any]) -> None:
    """ValueError unless a checkpoint's declared hidden layers are within the caps."""
    hidden = config.get("hidden")
    if not (
        isinstance(hidden, list)
        and 1 <= len(hidden) <= MAX_HIDDEN_LAYERS
        and all(isinstance(units, int) and 1 <= units <= MAX_UNITS for units in hidden)
    ):
        raise ValueError(
            f"declares hidden layers {str(hidden)[:80]}: expected 1 to {MAX_HIDDEN_LAYERS} widths "
            f"between 1 and {MAX_UNITS}"
        )


def describe(config: MLPConfig) -> str:
    """The layout for tables: hidden widths joined by '-' ("800-800")."""
    return "-".join(str(units) for units in config.hidden)


def fuse(model: MLP) -> MLP:
    """Nothing to fold: an eval-mode copy, so every family is deployed the same way."""
    return copy.deepcopy(model).eval()
