"""Paired gains of distillation over the scratch baseline, and their confidence intervals (kd/sweep/stats.py)."""

from __future__ import annotations

import math

import pytest

from kd.status import DONE, FAILED
from kd.sweep.results import CellResult
from kd.sweep.stats import gains, markdown, paired_ci, summary

T_975_DF3 = 3.182446  # Student t, 97.5 % quantile, 3 degrees of freedom (any printed t table)
T_975_DF2 = 4.302653  # the same with 2 degrees of freedom


def cell(alpha, seed, accuracy, temperature=4.0, limit=1000, epochs=1, status=DONE) -> CellResult:
    return CellResult(
        temperature, alpha, seed, limit, epochs, False, accuracy if status == DONE else None,
        None, None, None, None, status, "", "cmd", "{}",
    )  # fmt: skip


def test_paired_ci_matches_a_hand_computation():
    # differences 0.010, 0.030, -0.010, 0.020: mean 0.0125, squared deviations sum to 8.75e-4
    sd = math.sqrt(8.75e-4 / 3)
    half = T_975_DF3 * sd / math.sqrt(4)
    low, high = paired_ci([0.010, 0.030, -0.010, 0.020])
    assert low == pytest.approx(0.0125 - half, abs=1e-6) and high == pytest.approx(0.0125 + half, abs=1e-6)
    assert (low, high) == pytest.approx((-0.014675, 0.039675), abs=1e-6)


def test_paired_ci_needs_two_pairs():
    assert paired_ci([0.02]) == (None, None)
    assert paired_ci([]) == (None, None)


def test_gains_pair_each_seed_with_its_own_baseline():
    baselines = [cell(0.0, seed, accuracy) for seed, accuracy in ((0, 0.90), (1, 0.95), (2, 0.80))]
    # the KD cells beat their own seed's baseline by 2, 3 and 2.5 points, though seed 1's KD is below seed 0's
    kd = [cell(0.5, seed, accuracy) for seed, accuracy in ((0, 0.92), (1, 0.98), (2, 0.825))]
    (stat,) = gains(baselines + kd)
    assert (stat.temperature, stat.alpha, stat.limit, stat.epochs, stat.n, stat.seeds) == (
        4.0,
        0.5,
        1000,
        1,
        3,
        (0, 1, 2),
    )
    assert stat.mean_gain == pytest.approx(0.025)
    half = T_975_DF2 * 0.005 / math.sqrt(3)  # the differences' standard deviation is 0.005
    assert (stat.ci_low, stat.ci_high) == pytest.approx((0.025 - half, 0.025 + half), abs=1e-6)
    assert stat.significant
    assert stat.mean_accuracy == pytest.approx((0.92 + 0.98 + 0.825) / 3)
    assert stat.mean_baseline_accuracy == pytest.approx((0.90 + 0.95 + 0.80) / 3)
    # unpaired, a two-sample view of the same numbers would not tell: the spread between seeds hides it
    assert stat.accuracies == (0.92, 0.98, 0.825) and stat.baseline_accuracies == (0.90, 0.95, 0.80)


def test_one_baseline_serves_every_temperature_and_unpaired_or_failed_cells_are_left_out():
    rows = [
        cell(0.0, 0, 0.90),
        cell(0.0, 1, 0.91),
        cell(0.9, 0, 0.89, temperature=2.0),
        cell(0.9, 1, 0.93, temperature=2.0),
        cell(0.9, 0, 0.95, temperature=8.0),
        cell(0.9, 1, 0.0, temperature=8.0, status=FAILED),
        cell(0.9, 2, 0.99, temperature=8.0),  # seed 2 has no baseline
        cell(0.9, 0, 0.97, limit=5000),  # nor has this budget
    ]
    by_temperature = {stat.temperature: stat for stat in gains(rows)}
    assert set(by_temperature) == {2.0, 8.0}
    assert by_temperature[2.0].n == 2 and by_temperature[2.0].mean_gain == pytest.approx(0.005)
    assert not by_temperature[2.0].significant  # -1 and +2 points: the CI straddles zero
    assert by_temperature[8.0].n == 1 and by_temperature[8.0].ci_low is None
    assert not by_temperature[8.0].significant


def test_markdown_says_where_the_ci_excludes_zero():
    rows = [cell(0.0, s, 0.90) for s in range(3)] + [cell(0.5, s, 0.92 + s / 1000) for s in range(3)]
    table = markdown(gains(rows))
    assert "| 1,000 | 1 | no | 4 | 0.5 | 3 | 92.10% | 90.00% | +2.10 |" in table
    assert "**yes, KD helps**" in table


def test_summary_counts_where_kd_helps_and_hurts_per_budget_and_averages_by_setting():
    rows = [cell(0.0, s, 0.90) for s in range(3)]
    rows += [cell(0.5, s, 0.92 + s / 1000, temperature=2.0) for s in range(3)]  # +2.1 points, tight: helps
    rows += [cell(0.5, s, 0.88 - s / 1000, temperature=4.0) for s in range(3)]  # -2.1 points, tight: hurts
    rows += [cell(0.9, s, (0.89, 0.91, 0.905)[s], temperature=4.0) for s in range(3)]  # +0.17, wide: noise
    text = summary(gains(rows))
    assert "**1,000 images x 1 epoch** (scratch student 90.00%)" in text
    assert "helps beyond noise in 1 of 3 (T, alpha) settings and hurts in 1" in text
    assert "best +2.10 points at T = 2, alpha = 0.5" in text and "worst -2.10 points at T = 4, alpha = 0.5" in text
    assert "by temperature, over every budget and the other setting: 2: +2.10, 4: -0.97." in text
    assert "by alpha, over every budget and the other setting: 0.5: +0.00, 0.9: +0.17." in text
