"""Training-time augmentation on whole batches of tensors.

Drawings on the canvas are normalised like MNIST (see kd.preprocess), so what still varies is
what a person's hand adds: slant, a slightly different size or placement, and stroke
thickness. Each batch gets a random affine warp and, for some images, thicker or thinner ink.
The ranges cover what kd.drawn's font-rendered digits bring (`python -m kd.drawn`): a pen
that is thick for a small digit (the canvas pen is 18 px of 280) fills a 6's loop unless the
model has seen strokes that heavy, and slant plus rotation reach about 25 degrees.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

ROTATION = 15.0  # degrees, either way
SCALE = 0.12  # relative size change, either way
SHEAR = 0.3  # horizontal shear factor, either way
SHIFT = 2.0  # pixels, either way
INK_SHARES = (0.15, 0.15, 0.15)  # shares of images whose strokes grow 1 px, grow 2 px, get thinner


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
    choice = torch.rand(size, generator=generator)
    thicker = F.max_pool2d(warped, 3, stride=1, padding=1)
    much_thicker = F.max_pool2d(thicker, 3, stride=1, padding=1)
    thinner = 0.5 * (warped - F.max_pool2d(-warped, 3, stride=1, padding=1))  # full erosion erases thin strokes
    variants = torch.stack([thicker, much_thicker, thinner, warped])  # (4, B, 1, 28, 28)
    kind = torch.bucketize(choice, torch.tensor(INK_SHARES).cumsum(0), right=True)  # 3: ink unchanged
    return variants[kind, torch.arange(size)]
