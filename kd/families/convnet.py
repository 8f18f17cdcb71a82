"""The CNN family: the shipped teacher and student. Both return raw logits (B, 10): distillation needs them unsoftened.

One class serves both: a stack of conv + BatchNorm + ReLU stages with 2x2 max-pooling between
stages, then average pooling (over the whole map, or to a small grid) and a linear classifier.
TEACHER and STUDENT are the shipped layouts; the config travels in checkpoints.

The student is built for latency at batch 1, where each layer's fixed cost outweighs its
arithmetic: three convs to the teacher's four, the first a 5x5 with stride 2 that goes straight
to 14x14 (no pooling layer, a quarter of the work at full resolution). Its classifier sees the
last 7x7 map pooled to 3x3 rather than to one value per channel: with so few channels, where a
stroke is carries much of what tells a 4 from a 9, and keeping it made short runs learn far
faster (5,000 images x 2 epochs from labels alone: 97.67 % over 3 seeds against 96.32 % for
the global-pooling student before it; docs/results.md, "Short runs and the recipe").
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

MAX_LAYERS = 64  # conv layers in all stages together, in a checkpoint's header
MAX_WIDTH = 4096  # channels of one conv layer


@dataclass(frozen=True)
class ConvNetConfig:
    stages: tuple[tuple[int, ...], ...]  # conv widths per stage; 2x2 max-pool between stages
    dropout: float = 0.0  # dropout before the classifier
    num_classes: int = 10
    # Optional fields: their defaults are the original family, so older checkpoints load as they were.
    stem_kernel: int = 3  # kernel size of the first conv
    stem_stride: int = 1  # stride of the first conv: 2 halves the resolution without a pooling layer
    kernels: tuple[int, ...] | None = None  # kernel size per stage (first conv excepted); None: all 3
    head_grid: int = 1  # the last map is average-pooled to head_grid x head_grid for the classifier; 1: global

    @property
    def feature_size(self) -> int:
        """Side of the last feature map for a 28x28 input (the stem's stride, then a 2x2 pool per stage)."""
        size = (28 - 1) // self.stem_stride + 1
        return size // 2 ** (len(self.stages) - 1)


TEACHER = ConvNetConfig(stages=((32,), (64, 64), (128,)), dropout=0.2)
STUDENT = ConvNetConfig(stages=((12, 20), (34,)), stem_kernel=5, stem_stride=2, head_grid=3)  # 28 -> 14 -> 7 -> 3


class ConvNet(nn.Module):
    def __init__(self, config: ConvNetConfig):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        in_channels = 1
        for index, widths in enumerate(config.stages):
            if index > 0:
                layers.append(nn.MaxPool2d(2))
            kernel = config.kernels[index] if config.kernels else 3
            for width in widths:
                first = in_channels == 1
                size = config.stem_kernel if first else kernel
                stride = config.stem_stride if first else 1
                layers += [
                    nn.Conv2d(in_channels, width, size, stride=stride, padding=size // 2, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(inplace=True),
                ]
                in_channels = width
        self.features = nn.Sequential(*layers)
        self.head_pool = _grid_pool(config.feature_size, config.head_grid)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(in_channels * config.head_grid**2, config.num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() == 3:  # (B, 28, 28) -> (B, 1, 28, 28)
            images = images.unsqueeze(1)
        features = self.features(images)  # (B, C, 7, 7)
        pooled = self.head_pool(features).flatten(1)  # (B, C * head_grid^2)
        return self.classifier(self.dropout(pooled))  # (B, 10)


def _grid_pool(size: int, grid: int) -> nn.Module:
    """Average pooling of a size x size map to grid x grid, as a plain AvgPool2d (7 -> 3: 3x3 windows, stride 2).

    Plain pooling rather than adaptive pooling, which the ONNX exporter cannot write when the
    grid does not divide the map; the windows are the same ones adaptive pooling would use.
    """
    if grid == 1:
        return nn.AdaptiveAvgPool2d(1)
    if not 1 < grid <= size:
        raise ValueError(f"head_grid must be from 1 to the feature map's size {size}, got {grid}")
    stride = size // grid
    return nn.AvgPool2d(size - (grid - 1) * stride, stride)


def check(config: dict[str, Any]) -> None:
    """ValueError unless a checkpoint's declared stages are within the caps (read before anything is built)."""
    stages = config.get("stages")
    lists = isinstance(stages, list) and all(isinstance(stage, list) for stage in stages)
    widths = [width for stage in stages for width in stage] if lists else None
    if not widths or not all(isinstance(w, int) and 1 <= w <= MAX_WIDTH for w in widths) or len(widths) > MAX_LAYERS:
        raise ValueError(
            f"declares stages {str(stages)[:80]}: expected lists of at most {MAX_LAYERS} widths "
            f"between 1 and {MAX_WIDTH}"
        )


def describe(config: ConvNetConfig) -> str:
    """The layout in a few characters for tables: conv widths, stages split by '/' ("12,20/34")."""
    return "/".join(",".join(str(width) for width in stage) for stage in config.stages)


def fuse(model: ConvNet) -> ConvNet:
    """A copy of an eval-mode ConvNet with each BatchNorm folded into the conv before it: same outputs, fewer layers."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    fused = copy.deepcopy(model).eval()
    merged: list[nn.Module] = []
    for layer in fused.features:
        if isinstance(layer, nn.BatchNorm2d) and merged and isinstance(merged[-1], nn.Conv2d):
            merged[-1] = fuse_conv_bn_eval(merged[-1], layer)
        else:
            merged.append(layer)
    fused.features = nn.Sequential(*merged)
    return fused
