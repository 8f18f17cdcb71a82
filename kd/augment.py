"""Training-time augmentation on whole batches of tensors.

Drawings on the canvas are normalised like MNIST (see kd.preprocess), so what still varies is
what a person's hand adds: slant, a slightly different size or placement, and stroke
thickness. Each batch gets a random affine warp and, for some images, thicker or thinner ink.
Two more, each for a chosen share of a batch, bring in what drawings unlike MNIST show
(kd.infer.drawn): `embolden` inks strokes as a bold face or a thick pen does, `coarsen` takes a
digit down to 8x8 and up again, as a low-resolution scan arrives.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from kd.checks import is_number

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


BOLD = 5  # embolden's dilation: 2 px more ink on each side of a stroke, a bold face's weight at MNIST's size
BOX = slice(4, 24)  # MNIST fits every digit into the central 20x20 box of its 28x28 image
BITMAP, BLOCK = 32, 4  # optdigits' way to 8x8: a 32x32 bitmap, on pixels counted in 4x4 blocks


def check_share(name: str, share: float) -> None:
    """Raise ValueError unless `share` is a finite number from 0 to 1 (NaN fails)."""
    if not (is_number(share) and 0 <= share <= 1):
        raise ValueError(f"{name} must be a number from 0 to 1, got {share!r}")


def _chosen(size: int, share: float, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(size, generator=generator) < share).view(size, 1, 1, 1)


def embolden(images: torch.Tensor, generator: torch.Generator, share: float) -> torch.Tensor:
    """(B, 1, 28, 28) float in [0, 1] -> the same shape, `share` of the images (drawn at random) in much thicker ink."""
    check_share("bold", share)
    bold = F.max_pool2d(images, BOLD, stride=1, padding=BOLD // 2)
    return torch.where(_chosen(images.shape[0], share, generator), bold, images)


def coarsen(images: torch.Tensor, generator: torch.Generator, share: float) -> torch.Tensor:
    """(B, 1, 28, 28) float in [0, 1] -> the same shape, `share` of the images (drawn at random) at low resolution.

    Each chosen digit is taken to 8x8 the way optdigits made its images (its 20x20 box fitted to a 32x32
    bitmap, a pixel on where the ink covers half of it, on pixels counted in 4x4 blocks: 17 grey levels) and
    scaled back to 20x20, nearest (blocky) or bilinear (soft), as kd.infer.drawn.lowres brings such digits
    onto the canvas.
    """
    check_share("coarse", share)
    size = images.shape[0]
    box = images[:, :, BOX, BOX]
    bitmap = (F.interpolate(box, size=BITMAP, mode="bilinear", align_corners=False) >= 0.5).to(images.dtype)
    small = F.avg_pool2d(bitmap, BLOCK)  # (B, 1, 8, 8)
    side = box.shape[-1]
    blocky = F.interpolate(small, size=side, mode="nearest")
    soft = F.interpolate(small, size=side, mode="bilinear", align_corners=False)
    coarse = images.clone()
    coarse[:, :, BOX, BOX] = torch.where(_chosen(size, 0.5, generator), blocky, soft)
    return torch.where(_chosen(size, share, generator), coarse, images)
