"""Mixup and CutMix on whole batches: the views that function matching trains on.

Function matching (Beyer et al. 2022, "Knowledge distillation: A good teacher is patient and
consistent", arXiv:2106.05237) has the student match the teacher's outputs on images that lie
between the training images, not just on the images themselves: each image of a batch is
blended with (mixup) or gets a patch of (cutmix) another image of the same batch.

Every random number comes from the caller's torch.Generator, so a run is reproducible bit for
bit. torch's Beta sampler takes no generator, so the mixing weight is drawn by the inverse CDF
instead: one uniform number from the generator, mapped through Beta(alpha, alpha)'s quantile
function (scipy.special.betaincinv, a deterministic function of that number).
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Literal

import torch

MixKind = Literal["mixup", "cutmix"]


@dataclass(frozen=True)
class Mixed:
    images: torch.Tensor  # the mixed batch: the input's shape, dtype and memory format
    index: torch.Tensor  # (B,) the partner of each image: image i is mixed with image index[i]
    lam: float  # the share of each mixed image that is its own image (the rest is its partner's)


def check_mix_alpha(alpha: float) -> None:
    """Raise ValueError unless alpha, the Beta(alpha, alpha) parameter, is finite and > 0 (NaN fails)."""
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"mix_alpha must be a finite number > 0, got {alpha!r}")


def mix(images: torch.Tensor, generator: torch.Generator, kind: MixKind, alpha: float) -> Mixed:
    """Pair each image of (B, C, H, W) `images` with another of the batch and mix the two, weight ~ Beta(alpha, alpha).

    One weight for the whole batch. mixup blends: lam * x + (1 - lam) * x[index]. cutmix pastes a
    box of each partner into the image; its lam is the exact share of the image left uncovered.
    """
    check_mix_alpha(alpha)
    if kind not in typing.get_args(MixKind):
        raise ValueError(f"mix kind must be one of {', '.join(typing.get_args(MixKind))}, got {kind!r}")
    index = torch.randperm(len(images), generator=generator).to(images.device)
    lam = _beta(alpha, generator)
    if kind == "mixup":
        # images * lam keeps the input's memory format and the in-place add keeps that tensor's
        return Mixed(images.mul(lam).add_(images[index], alpha=1 - lam), index, lam)
    return _cutmix(images, index, lam, generator)


def _beta(alpha: float, generator: torch.Generator) -> float:
    """One Beta(alpha, alpha) draw by the inverse CDF of a uniform number from `generator`."""
    from scipy.special import betaincinv  # only runs that mix need scipy; the dashboards start without it

    uniform = torch.rand((), generator=generator, dtype=torch.float64).item()
    return float(betaincinv(alpha, alpha, uniform))


def _cutmix(images: torch.Tensor, index: torch.Tensor, lam: float, generator: torch.Generator) -> Mixed:
    """Paste a box of each partner, sized to cover 1 - lam of the image, at a random centre (Yun et al. 2019).

    The box is clipped at the image's edges, so the lam returned is the share actually left uncovered.
    """
    height, width = images.shape[-2:]
    ratio = math.sqrt(1 - lam)  # the box's side relative to the image's, so its area is 1 - lam
    centre_y = torch.randint(height, (), generator=generator).item()
    centre_x = torch.randint(width, (), generator=generator).item()
    top, bottom = _clipped_span(centre_y, round(height * ratio), height)
    left, right = _clipped_span(centre_x, round(width * ratio), width)
    mixed = images.clone()  # clone keeps the memory format
    mixed[..., top:bottom, left:right] = images[index, :, top:bottom, left:right]
    covered = (bottom - top) * (right - left)
    return Mixed(mixed, index, 1 - covered / (height * width))


def _clipped_span(centre: int, length: int, size: int) -> tuple[int, int]:
    """[start, end) of a span of `length` centred at `centre`, clipped to [0, size)."""
    start = centre - length // 2
    return max(start, 0), min(start + length, size)
