"""Paired gains of distillation over the scratch baseline, their CIs and corrected p-values (kd/sweep/stats.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from scipy import stats as scipy_stats

from kd.significance import benjamini_hochberg, holm
from kd.status import DONE, FAILED
from kd.sweep.results import CellResult, read_results
from kd.sweep.stats import (
    choices_summary,
    gains,
    markdown,
    nearest,
    paired_ci,
    paired_p_value,
    summary,
    validation_choices,
)

SHIPPED_SWEEP = Path(__file__).resolve().parents[1] / "results" / "sweep" / "results.csv"

T_975_DF3 = 3.182446  # Student t, 97.5 % quantile, 3 degrees of freedom (any printed t table)
T_975_DF2 = 4.302653  # the same with 2 degrees of freedom


def cell(alpha, seed, accuracy, temperature=4.0, limit=1000, epochs=1, status=DONE, validation=None) -> CellResult:
    return CellResult(
        temperature, alpha, seed, limit, epochs, False, accuracy if status == DONE else None,
        validation, None, None, None, None, status, "", "cmd", "{}",
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


def test_paired_p_value_is_the_two_sided_t_test_of_the_same_differences():
    differences = [0.010, 0.030, -0.010, 0.020]
    t = 0.0125 / (math.sqrt(8.75e-4 / 3) / 2)  # mean over its standard error: 1.4639
    assert paired_p_value(differences) == pytest.approx(2 * scipy_stats.t.sf(t, 3))
    assert paired_p_value(differences) == pytest.approx(scipy_stats.ttest_1samp(differences, 0).pvalue)
    assert paired_p_value([0.02]) is None
    assert paired_p_value([0.01, 0.01]) == 0.0 and paired_p_value([0.0, 0.0]) == 1.0  # no spread at all


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
    assert stat.p_value == pytest.approx(scipy_stats.ttest_1samp([0.02, 0.03, 0.025], 0).pvalue)
    assert stat.p_holm == stat.p_bh == stat.p_value  # one cell is a family of one
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
    assert by_temperature[8.0].p_value is by_temperature[8.0].p_holm is by_temperature[8.0].p_bh is None
    assert not by_temperature[8.0].significant  # one seed: no test, never starred


def sweep_rows(cell_gains: dict[tuple[float, float], float], seeds=range(3)) -> list[CellResult]:
    """Baselines at 90 % and, per (T, alpha), a KD cell that gains the given amount plus -0.2, 0, +0.2 points."""
    rows = [cell(0.0, s, 0.90) for s in seeds]
    for (temperature, alpha), gain in cell_gains.items():
        rows += [cell(alpha, s, 0.90 + gain + (s - 1) * 0.002, temperature=temperature) for s in seeds]
    return rows


def test_p_values_are_adjusted_across_every_cell_of_the_sweep_and_only_holm_makes_a_claim():
    # +2 points is clear after any correction; +0.6, +0.65 and +0.7 pass uncorrected tests (+0.6: t = 5.2,
    # 2 df, p = 0.035) and Benjamini-Hochberg, not Holm
    stats = gains(sweep_rows({(2.0, 0.5): 0.02, (4.0, 0.5): 0.006, (4.0, 0.9): 0.0065, (8.0, 0.9): 0.007}))
    raw = [s.p_value for s in stats]
    assert [s.p_holm for s in stats] == pytest.approx(holm(raw))
    assert [s.p_bh for s in stats] == pytest.approx(benjamini_hochberg(raw))
    by_setting = {(s.temperature, s.alpha): s for s in stats}
    moderate = by_setting[4.0, 0.5]
    assert moderate.ci_low > 0 and moderate.p_value < 0.05  # the uncorrected interval excludes zero
    assert moderate.p_bh < 0.05 < moderate.p_holm and not moderate.significant
    assert [key for key, s in by_setting.items() if s.significant] == [(2.0, 0.5)]


def test_the_shipped_sweep_has_the_seeds_the_subsets_and_the_corrected_claims_its_page_states():
    from kd.sweep.results import read_sweep_record

    rows = read_results(SHIPPED_SWEEP)
    assert rows and all(row.status == DONE and row.validation_accuracy is not None for row in rows)
    for limit in {row.limit for row in rows}:  # ten seeds where the spread is widest, five elsewhere
        seeds = {row.seed for row in rows if row.limit == limit}
        assert len(seeds) >= (10 if limit <= 1000 else 5)
    # each cell's command retrains its own seed-chosen subset of its budget
    assert all(f"--limit {row.limit} " in row.command and f"--seed {row.seed} " in row.command for row in rows)
    assert "class-balanced" in read_sweep_record(SHIPPED_SWEEP.parent)["data"]["train"]
    stats = gains(rows)
    holm_kept, bh_kept = sum(s.significant for s in stats), sum(s.p_bh < 0.05 for s in stats)
    assert holm_kept <= bh_kept <= sum(s.p_value < 0.05 for s in stats)
    page = (SHIPPED_SWEEP.parents[2] / "docs" / "sweeps.md").read_text()
    assert summary(stats) in page and markdown(stats) in page  # regenerated by `make sweep`, never typed


def test_nearest_is_the_asked_cell_or_the_closest_one_never_the_best():
    stats = gains(sweep_rows({(2.0, 0.5): 0.02, (4.0, 0.9): -0.01, (8.0, 1.0): 0.0}))
    assert (nearest(stats, 4.0, 0.9).temperature, nearest(stats, 4.0, 0.9).alpha) == (4.0, 0.9)
    assert (nearest(stats, 3.0, 0.5).temperature, nearest(stats, 3.0, 0.5).alpha) == (4.0, 0.9)  # ratio 4/3 < 3/2
    assert (nearest(stats, 6.0, 0.9).temperature, nearest(stats, 6.0, 0.9).alpha) == (8.0, 1.0)


def test_markdown_gives_the_raw_and_corrected_p_values_and_claims_only_what_holm_supports():
    rows = sweep_rows({(4.0, 0.5): 0.021, (4.0, 0.9): 0.006, (8.0, 0.9): 0.0})
    table = markdown(gains(rows))
    assert "| p | p (Holm) | p (BH) | KD (Holm, 5 %) |" in table.splitlines()[0]
    assert "| 1,000 | 1 | no | 4 | 0.5 | 3 | 92.10% | 90.00% | +2.10 | +1.60 to +2.60 |" in table
    helps, unshown, _ = table.splitlines()[2:]
    assert helps.endswith("| **helps** |")
    # 0.035 uncorrected, ranked 2nd of 3: Holm 2 x 0.035, Benjamini-Hochberg 3 / 2 x 0.035
    assert "| +0.60 | +0.10 to +1.10 | 0.035 | 0.07 | 0.053 | not shown |" in unshown


def test_summary_claims_only_what_holm_supports_and_says_not_shown_with_the_interval():
    rows = sweep_rows({(2.0, 0.5): 0.021, (4.0, 0.5): -0.021, (4.0, 0.9): 0.006, (8.0, 0.9): 0.0017})
    text = summary(gains(rows))
    assert "adjusted by Holm across the sweep's 4 tested cells, at 5 %: 2 pass" in text
    assert "Benjamini-Hochberg would keep 3, no correction 3" in text
    assert "**1,000 images x 1 epoch** (scratch student 90.00%)" in text
    assert "KD is shown to help in 1 (+2.10 points at T = 2, alpha = 0.5, Holm p = " in text
    assert "and to hurt in 1 (-2.10 points at T = 4, alpha = 0.5, Holm p = " in text
    # +0.6 passes uncorrected but not Holm: "not shown", with its uncorrected interval, never "no effect"
    assert "Not shown in the other 2, whose mean gains run from +0.60 points at T = 4, alpha = 0.9 (Holm p = " in text
    assert "uncorrected 95 % CI +0.10 to +1.10) to +0.17 points at T = 8, alpha = 0.9" in text
    assert "no effect" not in text.replace("not the same as no effect", "")
    assert "by temperature, over every budget and the other setting (a description, not a test): 2: +2.10" in text


def test_validation_chooses_the_setting_and_the_test_set_plays_no_part():
    rows = [
        # T 4 has the better validation mean (0.95 against 0.93), T 2 the better test accuracy
        cell(0.9, 0, 0.90, temperature=4.0, validation=0.96), cell(0.9, 1, 0.91, temperature=4.0, validation=0.94),
        cell(0.9, 0, 0.99, temperature=2.0, validation=0.93), cell(0.9, 1, 0.99, temperature=2.0, validation=0.93),
        cell(0.0, 0, 0.95, validation=0.90), cell(0.0, 1, 0.95, validation=0.92),
        cell(0.9, 0, 0.99, temperature=8.0, limit=5000, validation=0.97),
    ]  # fmt: skip
    first, second = validation_choices(rows)
    assert (first.limit, first.temperature, first.alpha, first.seeds) == (1000, 4.0, 0.9, 2)
    assert first.validation_accuracy == pytest.approx(0.95) and first.baseline_validation_accuracy == pytest.approx(
        0.91
    )
    assert first.standard_error == pytest.approx(0.01)  # sd 0.01414 over 2 seeds: T 2's 0.93 is not within it
    assert first.within == () and (second.limit, second.temperature, second.baseline_validation_accuracy) == (
        5000,
        8.0,
        None,
    )
    line = choices_summary([first, second]).splitlines()[0]
    assert line == (
        "- 1,000 images x 1 epoch: best T = 4, alpha = 0.9 (mean validation accuracy 95.00% over 2 seeds, "
        "standard error 1.00 points; scratch 91.00%); within one standard error: none"
    )


def test_settings_within_one_standard_error_of_the_best_are_named_as_ties():
    rows = [cell(0.9, seed, 0.9, temperature=4.0, validation=v) for seed, v in enumerate((0.95, 0.97))]
    rows += [cell(0.5, seed, 0.9, temperature=4.0, validation=v) for seed, v in enumerate((0.951, 0.96))]
    (choice,) = validation_choices(rows)
    assert (choice.temperature, choice.alpha) == (4.0, 0.9)
    assert choice.within == ((4.0, 0.5, pytest.approx(0.9555)),)  # 0.9555 >= 0.96 - 0.01
