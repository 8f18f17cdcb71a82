"""Significance tests a reviewer asks for: corrections for many tests at once, and McNemar's test of two models.

Choosing among settings on validation follows one rule (`one_standard_error`): the best mean wins, but a
setting within one standard error of it ties with it, so what ships stays unless seed noise cannot explain
the difference.

A sweep tests dozens of cells at 5 %, so a few pass by chance alone: `holm` (which controls the
chance of any false claim, and is what a claim rests on) and `benjamini_hochberg` (which controls
the expected share of false claims among those made) adjust the p-values of the whole family.

Two models scored on the same 10,000 test digits are paired too: only the digits one gets right
and the other wrong say which is better, so McNemar's exact test counts those and asks whether the
split is more lopsided than a fair coin would make it. Pure Python: no scipy at a dashboard's start.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import torch

from kd.data import MNIST
from kd.predict import logits

SIGNIFICANCE = 0.05  # the level of every claim: a family of tests after Holm's correction, or one McNemar test
Setting = TypeVar("Setting")


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input's order.

    With p_(1) <= ... <= p_(m) sorted, p~_(i) = min(1, max_{j <= i} (m - j + 1) p_(j)); rejecting where
    p~ < 0.05 keeps the chance of even one false rejection among the m tests under 5 %.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):  # rank 0 is the smallest p: multiplied by m
        running = max(running, (m - rank) * p_values[i])
        adjusted[i] = min(1.0, running)
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input's order.

    With p_(1) <= ... <= p_(m) sorted, p~_(i) = min(1, min_{j >= i} m p_(j) / j); rejecting where
    p~ < 0.05 keeps the expected share of false rejections among the rejections under 5 %.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 1.0
    for rank in range(m - 1, -1, -1):  # from the largest p down
        i = order[rank]
        running = min(running, m * p_values[i] / (rank + 1))
        adjusted[i] = running
    return adjusted


def format_p(p: float) -> str:
    """A p-value in two significant digits, as a table or a sentence shows it; tiny ones as < 0.001."""
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


@dataclass(frozen=True)
class Pick(Generic[Setting]):
    """What validation says among settings: the best mean, its standard error, and the ties (the other settings
    whose means are within one standard error of the best: seed noise cannot tell them from it)."""

    best: Setting
    standard_error: float
    ties: tuple[Setting, ...]

    def keep(self, shipped: Setting) -> Setting:
        """The lab's rule: what ships stays unless another setting is better by more than one standard error."""
        return shipped if shipped == self.best or shipped in self.ties else self.best


def one_standard_error(means: Mapping[Setting, float], standard_error: Callable[[Setting], float]) -> Pick[Setting]:
    """The best of `means` (the first of equal ones), `standard_error(best)`, and the settings within it, in order."""
    best = max(means, key=means.__getitem__)
    error = standard_error(best)
    ties = tuple(setting for setting, mean in means.items() if setting != best and mean >= means[best] - error)
    return Pick(best, error, ties)


@dataclass(frozen=True)
class McNemar:
    """Two models on the same test images: the discordant pairs and McNemar's exact two-sided p-value."""

    a_only: int  # images model A gets right and model B wrong
    b_only: int  # images B gets right and A wrong
    p_value: float

    @property
    def significant(self) -> bool:
        """The split of the discordant images is more than test-set noise at 5 %."""
        return self.p_value < SIGNIFICANCE

    def describe(self, a: str = "A", b: str = "B") -> str:
        """One sentence for a page or a README, e.g. `A right, B wrong: 12; ... p = 0.46 — not more than ...`."""
        verdict = "more than test-set noise" if self.significant else "not more than test-set noise"
        return (
            f"{a} right, {b} wrong: {self.a_only}; {b} right, {a} wrong: {self.b_only}; "
            f"McNemar exact p = {format_p(self.p_value)} — {verdict}"
        )


def exact_mcnemar_p(b: int, c: int) -> float:
    """p = min(1, 2 P(X <= min(b, c))) with X ~ Binomial(b + c, 1/2); 1 when there is no discordant pair.

    Summed with whole numbers: Python divides the two integers exactly, even for thousands of pairs.
    """
    n = b + c
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1))
    return min(1.0, 2 * tail / 2**n)


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> McNemar:
    """McNemar's exact test from two models' per-image correctness (booleans, same images in the same order)."""
    correct_a, correct_b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if correct_a.shape != correct_b.shape:
        raise ValueError(f"the two models were scored on different images: {correct_a.shape} and {correct_b.shape}")
    a_only, b_only = int((correct_a & ~correct_b).sum()), int((correct_b & ~correct_a).sum())
    return McNemar(a_only, b_only, exact_mcnemar_p(a_only, b_only))


def compare_on_test_set(model_a: torch.nn.Module, model_b: torch.nn.Module, data: MNIST) -> McNemar:
    """McNemar's test of two models on the MNIST test set (each model's predictions computed once here)."""
    labels = data.test_labels.numpy()
    correct = [logits(model, data.test_images).argmax(1).numpy() == labels for model in (model_a, model_b)]
    return mcnemar(*correct)
