import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kd.losses import distillation_loss, soft_target_loss

STUDENT = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
TEACHER = torch.tensor([[3.0, 0.0, -2.0], [-1.0, 2.0, 0.5]])
TARGETS = torch.tensor([0, 2])
# Pinned value of the formula on the tensors above with T = 4, alpha = 0.7, computed by hand
# (numpy, below) when the test was written; a change in the loss's scaling shows up here.
PINNED = 0.55676842


def hand_computed(student, teacher, targets, temperature, alpha):
    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    s, t = np.asarray(student, np.float64), np.asarray(teacher, np.float64)
    p_t, p_s = softmax(t / temperature), softmax(s / temperature)
    kl = (p_t * (np.log(p_t) - np.log(p_s))).sum(axis=1).mean()
    ce = -np.log(softmax(s)[np.arange(len(targets)), np.asarray(targets)]).mean()
    return alpha * temperature**2 * kl + (1 - alpha) * ce


@pytest.mark.parametrize("temperature,alpha", [(1.0, 0.5), (4.0, 0.7), (20.0, 0.9), (2.5, 1.0), (3.0, 0.0)])
def test_matches_hand_computation(temperature, alpha):
    loss = distillation_loss(STUDENT, TEACHER, TARGETS, temperature, alpha)
    assert loss.item() == pytest.approx(
        hand_computed(STUDENT, TEACHER, TARGETS, temperature, alpha), rel=1e-4
    )  # float32


def test_pinned_value():
    assert distillation_loss(STUDENT, TEACHER, TARGETS, 4.0, 0.7).item() == pytest.approx(PINNED, rel=1e-5)
    assert hand_computed(STUDENT, TEACHER, TARGETS, 4.0, 0.7) == pytest.approx(PINNED, rel=1e-5)


def test_alpha_zero_is_cross_entropy_and_needs_no_teacher():
    expected = F.cross_entropy(STUDENT, TARGETS)
    assert torch.allclose(distillation_loss(STUDENT, None, TARGETS, 4.0, 0.0), expected)


def test_alpha_one_ignores_labels_and_is_zero_when_student_matches_teacher():
    flipped = torch.tensor([1, 1])
    assert torch.allclose(
        distillation_loss(STUDENT, TEACHER, TARGETS, 2.0, 1.0), distillation_loss(STUDENT, TEACHER, flipped, 2.0, 1.0)
    )
    assert distillation_loss(TEACHER, TEACHER, TARGETS, 2.0, 1.0).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("temperature", [1.0, 4.0, 20.0])
def test_soft_target_loss_is_the_pure_distillation_term(temperature):
    # what function matching trains on: the T^2-scaled KL term, without labels
    loss = soft_target_loss(STUDENT, TEACHER, temperature)
    assert loss.item() == pytest.approx(hand_computed(STUDENT, TEACHER, TARGETS, temperature, 1.0), rel=1e-4)
    assert torch.equal(loss, distillation_loss(STUDENT, TEACHER, TARGETS, temperature, 1.0))


def test_gradient_flows_to_student_only():
    student = STUDENT.clone().requires_grad_()
    teacher = TEACHER.clone().requires_grad_()
    distillation_loss(student, teacher.detach(), TARGETS, 4.0, 0.5).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


@pytest.mark.parametrize("temperature", [0.0, -1.0, math.nan, math.inf])
def test_bad_temperature_raises(temperature):
    with pytest.raises(ValueError, match="temperature"):
        distillation_loss(STUDENT, TEACHER, TARGETS, temperature, 0.5)


@pytest.mark.parametrize("alpha", [-0.1, 1.01, math.nan])
def test_bad_alpha_raises(alpha):
    with pytest.raises(ValueError, match="alpha"):
        distillation_loss(STUDENT, TEACHER, TARGETS, 4.0, alpha)


def test_soft_term_without_teacher_raises():
    with pytest.raises(ValueError, match="teacher_logits"):
        distillation_loss(STUDENT, None, TARGETS, 4.0, 0.5)
