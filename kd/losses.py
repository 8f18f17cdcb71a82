"""The knowledge-distillation loss (Hinton, Vinyals & Dean, 2015) and the losses on mixed images."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def check_hyperparameters(temperature: float, alpha: float) -> None:
    """Raise ValueError unless temperature > 0 and 0 <= alpha <= 1 (NaN fails both)."""
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    if not (isinstance(alpha, (int, float)) and 0.0 <= alpha <= 1.0):
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor | None,
    targets: torch.Tensor,
    temperature: float,
    alpha: float,
) -> torch.Tensor:
    """Classic soft + hard label distillation loss, averaged over the batch.

        loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))
             + (1 - alpha) * CE(student, targets)

    The T^2 factor keeps the soft term's gradients on the same scale as the hard term's
    when T changes (Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network",
    arXiv:1503.02531, 2015). alpha is the share of the soft-target term: alpha = 0 is plain
    training on the labels (the scratch baseline, teacher_logits may then be None) and
    alpha = 1 is pure distillation.

    Shapes: student_logits and teacher_logits (B, C), targets (B,) class indices.
    """
    check_hyperparameters(temperature, alpha)
    hard = F.cross_entropy(student_logits, targets) if alpha < 1 else student_logits.new_zeros(())
    if alpha == 0:
        return hard
    if teacher_logits is None:
        raise ValueError("teacher_logits are required when alpha > 0")
    return alpha * soft_target_loss(student_logits, teacher_logits, temperature) + (1 - alpha) * hard


def soft_target_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """The soft-target term alone: T^2 * KL(softmax(teacher / T) || softmax(student / T)), averaged over the batch.

    What function matching trains on (Beyer et al. 2022): mixed images have no labels, only the
    teacher's outputs. Shapes: both (B, C).
    """
    log_p_student = F.log_softmax(student_logits / temperature, dim=1)
    log_p_teacher = F.log_softmax(teacher_logits / temperature, dim=1)
    return temperature**2 * F.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True)


def mixed_label_loss(
    student_logits: torch.Tensor, targets: torch.Tensor, partner_targets: torch.Tensor, lam: float
) -> torch.Tensor:
    """Cross-entropy with mixed labels, for images that are a lam : (1 - lam) mix of two (mixup, cutmix):

        loss = lam * CE(student, targets) + (1 - lam) * CE(student, partner_targets)

    The scratch twin of a function-matching run learns from these, having no teacher.
    Shapes: student_logits (B, C), targets and partner_targets (B,) class indices.
    """
    return lam * F.cross_entropy(student_logits, targets) + (1 - lam) * F.cross_entropy(student_logits, partner_targets)
