"""Training-time augmentation on whole batches of tensors.

Drawings on the canvas are normalised like MNIST (see kd.preprocess), so what still varies is
what a person's hand adds: slant, a slightly different size or placement, and stroke
thickness. Each batch gets a random affine warp and, for some images, thicker or thinner ink.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

ROTATION = 12.0  # degrees, either way
SCALE = 0.12  # relative size change, either way
SHEAR = 0.15  # horizontal shear factor, either way
SHIFT = 2.0  # pixels, either way
THICKEN, THIN = 0.2, 0.2  # share of images whose strokes get thicker / thinner


def _uniform(size: int, spread: float, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(size, generator=generator) * 2 - 1) * spread


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(B, 1, 28, 28) float in [0, 1] -> the same shape, randomly warped and re-inked."""
    size = images.shape[0]
    angle = _uniform(size, math.radians(ROTATION), generator)
    scale = 1 + _uniform(size, SCALE, generator)
    shear = _uniform(size, SHEAR, generator)
    shift = _uniform(2 * size, SHIFT * 2 / 28, generator).view(size, 2)  # grid units span 2 per 28 px
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin + shear * cos, shift[:, 0]], 1), torch.stack([sin, cos + shear * sin, shift[:, 1]], 1)],
        1,
    )  # (B, 2, 3)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    warped = F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")
    choice = torch.rand(size, generator=generator).view(size, 1, 1, 1)
    thicker = F.max_pool2d(warped, 3, stride=1, padding=1)
    thinner = -F.max_pool2d(-warped, 3, stride=1, padding=1)
    thinner = 0.5 * (warped + thinner)  # a full erosion would erase thin MNIST strokes
    return torch.where(choice < THICKEN, thicker, torch.where(choice > 1 - THIN, thinner, warped))
