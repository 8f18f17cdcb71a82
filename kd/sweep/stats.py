"""Statistics of a sweep: the paired gain of distillation over the scratch baseline, with a 95 % CI.

A KD cell and its baseline share the seed, hence the initial weights and the order of the data:
the difference of the pair removes the seed-to-seed spread that both share, which is why the
test is on paired differences (Student t with n - 1 degrees of freedom), not on two means.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass

from scipy import stats as scipy_stats

from kd.status import DONE
from kd.sweep.results import CellResult

CONFIDENCE = 0.95


@dataclass(frozen=True)
class GainStat:
    """One (temperature, alpha, limit, epochs, augment) cell of the grid, over the seeds that have a pair."""

    temperature: float
    alpha: float
    limit: int
    epochs: int
    augment: bool
    n: int  # seeds with both the KD cell and its baseline done
    seeds: tuple[int, ...]
    accuracies: tuple[float, ...]  # the KD cell's, per seed
    baseline_accuracies: tuple[float, ...]  # the scratch baseline's, same seeds
    mean_accuracy: float
    mean_baseline_accuracy: float
    mean_gain: float  # accuracy - baseline accuracy, as a fraction (0.01 = one point)
    ci_low: float | None  # 95 % CI of the mean gain; None with a single seed
    ci_high: float | None

    @property
    def significant(self) -> bool:
        """The CI excludes zero: the gain (or loss) is more than seed-to-seed noise."""
        return self.ci_low is not None and (self.ci_low > 0 or self.ci_high < 0)


def paired_ci(differences: list[float], confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """Student-t confidence interval of the mean of paired differences; (None, None) below two pairs."""
    n = len(differences)
    if n < 2:
        return None, None
    mean = sum(differences) / n
    spread = math.sqrt(sum((d - mean) ** 2 for d in differences) / (n - 1))
    half = scipy_stats.t.ppf(0.5 + confidence / 2, n - 1) * spread / math.sqrt(n)
    return mean - half, mean + half


def gains(results: list[CellResult]) -> list[GainStat]:
    """The paired gain of every KD cell over the baseline of the same (limit, epochs, augment, seed)."""
    done = [row for row in results if row.status == DONE]
    baselines = {(row.limit, row.epochs, row.augment, row.seed): row.accuracy for row in done if row.alpha == 0}
    pairs: dict[tuple, list[tuple[int, float, float]]] = defaultdict(list)
    for row in done:
        budget = (row.limit, row.epochs, row.augment, row.seed)
        if row.alpha > 0 and budget in baselines:
            group = (row.temperature, row.alpha, row.limit, row.epochs, row.augment)
            pairs[group].append((row.seed, row.accuracy, baselines[budget]))
    stats = []
    for (temperature, alpha, limit, epochs, augment), rows in sorted(pairs.items(), key=lambda item: _order(item[0])):
        rows.sort()
        seeds, accuracies, baseline_accuracies = (tuple(column) for column in zip(*rows, strict=True))
        differences = [a - b for a, b in zip(accuracies, baseline_accuracies, strict=True)]
        low, high = paired_ci(differences)
        stats.append(
            GainStat(
                temperature, alpha, limit, epochs, augment, len(rows), seeds, accuracies, baseline_accuracies,
                mean_accuracy=sum(accuracies) / len(rows),
                mean_baseline_accuracy=sum(baseline_accuracies) / len(rows),
                mean_gain=sum(differences) / len(rows),
                ci_low=low,
                ci_high=high,
            )
        )  # fmt: skip
    return stats


def _order(group: tuple) -> tuple:
    temperature, alpha, limit, epochs, augment = group
    return (limit, epochs, augment, temperature, alpha)


def markdown(stats: list[GainStat]) -> str:
    """The table for a README: one line per (limit, epochs, T, alpha), gains in accuracy points."""
    lines = [
        "| training images | epochs | augment | T | alpha | seeds | KD accuracy | scratch accuracy "
        "| paired gain (points) | 95 % CI (points) | CI excludes 0 |",
        "|--:|--:|:--|--:|--:|--:|--:|--:|--:|--:|:--|",
    ]
    for s in stats:
        ci = "n/a (one seed)" if s.ci_low is None else f"{s.ci_low * 100:+.2f} to {s.ci_high * 100:+.2f}"
        verdict = ("**yes, KD helps**" if s.mean_gain > 0 else "**yes, KD hurts**") if s.significant else "no"
        lines.append(
            f"| {s.limit:,} | {s.epochs} | {'yes' if s.augment else 'no'} | {s.temperature:g} | {s.alpha:g} | {s.n} "
            f"| {s.mean_accuracy:.2%} | {s.mean_baseline_accuracy:.2%} | {s.mean_gain * 100:+.2f} | {ci} | {verdict} |"
        )
    return "\n".join(lines)


def summary(stats: list[GainStat]) -> str:
    """The sweep in plain words, from its numbers: per data budget where KD helps or hurts beyond noise,
    then the mean gain by temperature and by alpha. Regenerated with the table, never typed by hand."""
    lines = []
    budgets = sorted({(s.limit, s.epochs, s.augment) for s in stats})
    for limit, epochs, augment in budgets:
        mine = [s for s in stats if (s.limit, s.epochs, s.augment) == (limit, epochs, augment)]
        helps = sum(s.significant and s.mean_gain > 0 for s in mine)
        hurts = sum(s.significant and s.mean_gain < 0 for s in mine)
        best, worst = max(mine, key=lambda s: s.mean_gain), min(mine, key=lambda s: s.mean_gain)
        lines.append(
            f"- **{limit:,} images x {epochs} epoch{'s' if epochs != 1 else ''}{', augmented' if augment else ''}** "
            f"(scratch student {mine[0].mean_baseline_accuracy:.2%}): KD helps beyond noise in {helps} of "
            f"{len(mine)} (T, alpha) settings and hurts in {hurts}; best {_setting(best)}, worst {_setting(worst)}."
        )
    for name, key in (("temperature", "temperature"), ("alpha", "alpha")):
        values = sorted({getattr(s, key) for s in stats})
        means = ", ".join(
            f"{value:g}: {100 * statistics.fmean(s.mean_gain for s in stats if getattr(s, key) == value):+.2f}"
            for value in values
        )
        lines.append(f"- Mean paired gain in points by {name}, over every budget and the other setting: {means}.")
    return "\n".join(lines)


def _setting(stat: GainStat) -> str:
    interval = "" if stat.ci_low is None else f", CI {stat.ci_low * 100:+.2f} to {stat.ci_high * 100:+.2f}"
    return f"{stat.mean_gain * 100:+.2f} points at T = {stat.temperature:g}, alpha = {stat.alpha:g}{interval}"
