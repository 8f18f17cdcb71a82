"""Statistics of a sweep: the paired gain of distillation over the scratch baseline, its 95 % CI and p-values.

A KD cell and its baseline share the seed, hence the initial weights and the order of the data:
the difference of the pair removes the seed-to-seed spread that both share, which is why the
test is on paired differences (Student t with n - 1 degrees of freedom), not on two means.

A sweep tests every cell at once (40 in the shipped one: about 2 would pass at 5 % by chance),
and the cells of a budget share one baseline, so their tests are correlated. Each cell's p-value
is therefore adjusted across all the sweep's cells: Holm's correction, valid under any dependence,
decides which gains are claimed (`GainStat.significant`); Benjamini-Hochberg, less strict (it bounds the
share of false claims, under the positive dependence a shared baseline gives), is a second column. The
95 % interval stays the per-cell (uncorrected) one, labelled as such. Longer than most modules: the
statistics and the sentences that report them (summary, table, validation choices) are kept together so
that a wording never drifts from the figure it states.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass

from scipy import stats as scipy_stats

from kd.significance import SIGNIFICANCE, benjamini_hochberg, format_p, holm, one_standard_error
from kd.status import DONE
from kd.sweep.results import CellResult

CONFIDENCE = 0.95


@dataclass(frozen=True)
class GainStat:
    """One (temperature, alpha, limit, epochs, augment, left-out digits) cell of the grid, over the seeds that have
    a pair."""

    temperature: float
    alpha: float
    limit: int
    epochs: int
    augment: bool
    omit_digits: str  # the digits its training images left out, "3" or "7,8" ("": none)
    n: int  # seeds with both the KD cell and its baseline done
    seeds: tuple[int, ...]
    accuracies: tuple[float, ...]  # the KD cell's, per seed
    baseline_accuracies: tuple[float, ...]  # the scratch baseline's, same seeds
    mean_accuracy: float
    mean_baseline_accuracy: float
    mean_gain: float  # accuracy - baseline accuracy, as a fraction (0.01 = one point)
    ci_low: float | None  # 95 % CI of the mean gain, this cell alone (uncorrected); None with a single seed
    ci_high: float | None
    p_value: float | None = None  # two-sided paired t-test of a zero gain; None with a single seed
    p_holm: float | None = None  # adjusted across every tested cell of the sweep: Holm
    p_bh: float | None = None  # the same family, Benjamini-Hochberg
    # with left-out digits: their mean test recall after the offset chosen on validation, KD and scratch, over seeds
    omitted_recall: float | None = None
    baseline_omitted_recall: float | None = None

    @property
    def budget(self) -> tuple[int, int, bool, str]:
        """What its scratch baseline shares with it: images, epochs, augmentation and the digits left out."""
        return self.limit, self.epochs, self.augment, self.omit_digits

    @property
    def significant(self) -> bool:
        """The gain (or loss) survives Holm's correction across the sweep's cells at 5 %: a claim may rest on it."""
        return self.p_holm is not None and self.p_holm < SIGNIFICANCE


def _mean_and_error(differences: list[float]) -> tuple[float, float]:
    """The mean of paired differences and its standard error (n - 1 in the variance); at least two pairs."""
    n = len(differences)
    mean = sum(differences) / n
    spread = math.sqrt(sum((d - mean) ** 2 for d in differences) / (n - 1))
    return mean, spread / math.sqrt(n)


def _error(values: list[float]) -> float:
    """The standard error of the mean of seeds' results; 0 for one seed."""
    return _mean_and_error(values)[1] if len(values) > 1 else 0.0


def paired_ci(differences: list[float], confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """Student-t confidence interval of the mean of paired differences; (None, None) below two pairs."""
    n = len(differences)
    if n < 2:
        return None, None
    mean, error = _mean_and_error(differences)
    half = scipy_stats.t.ppf(0.5 + confidence / 2, n - 1) * error
    return mean - half, mean + half


def paired_p_value(differences: list[float]) -> float | None:
    """Two-sided paired t-test of a zero mean difference, n - 1 degrees of freedom; None below two pairs.

    Differences that are all equal have no spread: p is 1 if they are all zero, else 0 (t is infinite).
    """
    n = len(differences)
    if n < 2:
        return None
    mean, error = _mean_and_error(differences)
    if error == 0:
        return 1.0 if mean == 0 else 0.0
    return float(2 * scipy_stats.t.sf(abs(mean) / error, n - 1))


def gains(results: list[CellResult]) -> list[GainStat]:
    """The paired gain of every KD cell over the baseline of the same (limit, epochs, augment, left-out digits, seed).

    The cells' p-values are adjusted together: the results are one sweep, and its tested cells one family.
    """
    done = [row for row in results if row.status == DONE]
    baselines = {(*_budget(row), row.seed): row for row in done if row.alpha == 0}
    pairs: dict[tuple, list[tuple[int, CellResult, CellResult]]] = defaultdict(list)
    for row in done:
        budget = (*_budget(row), row.seed)
        if row.alpha > 0 and budget in baselines:
            pairs[(row.temperature, row.alpha, *_budget(row))].append((row.seed, row, baselines[budget]))
    stats = []
    for group, rows in sorted(pairs.items(), key=lambda item: _order(item[0])):
        rows.sort(key=lambda pair: pair[0])
        seeds = tuple(seed for seed, _, _ in rows)
        accuracies = tuple(row.accuracy for _, row, _ in rows)
        baseline_accuracies = tuple(baseline.accuracy for _, _, baseline in rows)
        differences = [a - b for a, b in zip(accuracies, baseline_accuracies, strict=True)]
        low, high = paired_ci(differences)
        stats.append(
            GainStat(
                *group, len(rows), seeds, accuracies, baseline_accuracies,
                mean_accuracy=sum(accuracies) / len(rows),
                mean_baseline_accuracy=sum(baseline_accuracies) / len(rows),
                mean_gain=sum(differences) / len(rows),
                ci_low=low,
                ci_high=high,
                p_value=paired_p_value(differences),
                omitted_recall=_mean_of(row.omitted_recall_after for _, row, _ in rows),
                baseline_omitted_recall=_mean_of(baseline.omitted_recall_after for _, _, baseline in rows),
            )
        )  # fmt: skip
    return _adjusted(stats)


def _budget(row: CellResult) -> tuple[int, int, bool, str]:
    return row.limit, row.epochs, row.augment, row.omit_digits


def _mean_of(values) -> float | None:
    """The mean of the values there are; None if none is (cells that left no digit out)."""
    present = [value for value in values if value is not None]
    return statistics.fmean(present) if present else None


def _adjusted(stats: list[GainStat]) -> list[GainStat]:
    """The stats with Holm's and Benjamini-Hochberg's p-values over the cells that have a p-value."""
    tested = [i for i, s in enumerate(stats) if s.p_value is not None]
    raw = [stats[i].p_value for i in tested]
    adjusted = dict(zip(tested, zip(holm(raw), benjamini_hochberg(raw), strict=True), strict=True))
    return [
        dataclasses.replace(s, p_holm=adjusted[i][0], p_bh=adjusted[i][1]) if i in adjusted else s
        for i, s in enumerate(stats)
    ]


def nearest(stats: list[GainStat], temperature: float, alpha: float) -> GainStat:
    """The cell at (temperature, alpha), else the nearest there is: closest temperature by ratio, then closest alpha.

    What a page opens on is chosen by the settings, never by the results: the cell with the largest gain
    would show its interval at its most flattering (the winner's curse).
    """
    return min(
        stats,
        key=lambda s: (abs(math.log(s.temperature / temperature)), abs(s.alpha - alpha), s.temperature, s.alpha),
    )


def _order(group: tuple) -> tuple:
    temperature, alpha, limit, epochs, augment, omit_digits = group
    return (limit, epochs, augment, omit_digits, temperature, alpha)


def tested(stats: list[GainStat]) -> int:
    """How many cells were tested together (those with two seeds or more): the size of the corrected family."""
    return sum(s.p_value is not None for s in stats)


def interval(stat: GainStat) -> str:
    """The uncorrected 95 % CI in points, or why there is none."""
    return "n/a (one seed)" if stat.ci_low is None else f"{stat.ci_low * 100:+.2f} to {stat.ci_high * 100:+.2f}"


def verdict(stat: GainStat) -> str:
    """What may be claimed of a cell: `helps` or `hurts` where Holm's test rejects a zero gain, else `not shown`."""
    if not stat.significant:
        return "not shown"
    return "helps" if stat.mean_gain > 0 else "hurts"


def markdown(stats: list[GainStat]) -> str:
    """The table for a README: one line per (limit, epochs, T, alpha), gains in accuracy points; a sweep that left
    digits out adds which, and their recall after the offset (KD and scratch)."""
    omitting = any(s.omit_digits for s in stats)
    extra = " left out | their recall after the offset (KD / scratch) |" if omitting else ""
    lines = [
        "| training images | epochs | augment | T | alpha | seeds | KD accuracy | scratch accuracy "
        "| paired gain (points) | 95 % CI (points, uncorrected) | p | p (Holm) | p (BH) | KD (Holm, 5 %) |" + extra,
        "|--:|--:|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:--|" + (":--|--:|" if omitting else ""),
    ]
    for s in stats:
        p_values = " | ".join("n/a" if p is None else format_p(p) for p in (s.p_value, s.p_holm, s.p_bh))
        claim = f"**{verdict(s)}**" if s.significant else verdict(s)
        lines.append(
            f"| {s.limit:,} | {s.epochs} | {'yes' if s.augment else 'no'} | {s.temperature:g} | {s.alpha:g} | {s.n} "
            f"| {s.mean_accuracy:.2%} | {s.mean_baseline_accuracy:.2%} | {s.mean_gain * 100:+.2f} | {interval(s)} "
            f"| {p_values} | {claim} |" + (f" {s.omit_digits or 'none'} | {_recalls(s)} |" if omitting else "")
        )
    return "\n".join(lines)


def _recalls(stat: GainStat) -> str:
    if stat.omitted_recall is None or stat.baseline_omitted_recall is None:
        return "–"
    return f"{stat.omitted_recall:.1%} / {stat.baseline_omitted_recall:.1%}"


def budget_words(limit: int, epochs: int, augment: bool, omit_digits: str) -> str:
    """A budget as the reports name it: "5,000 images x 2 epochs, augmented, without 3"."""
    words = f"{limit:,} images x {epochs} epoch{'s' if epochs != 1 else ''}{', augmented' if augment else ''}"
    return words + (f", without {omit_digits}" if omit_digits else "")


def summary(stats: list[GainStat]) -> str:
    """The sweep in plain words, from its numbers: what Holm's correction lets one claim per data budget, what
    it does not show (never "no effect"), then the mean gain by temperature and by alpha. Regenerated with the
    table, never typed by hand."""
    family = tested(stats)
    uncorrected = sum(s.p_value is not None and s.p_value < SIGNIFICANCE for s in stats)
    by_bh = sum(s.p_bh is not None and s.p_bh < SIGNIFICANCE for s in stats)
    lines = [
        f"- **Claims** rest on two-sided paired t-tests adjusted by Holm across the sweep's {family} tested "
        f"cell{'s' if family != 1 else ''}, at 5 %: {sum(s.significant for s in stats)} pass (Benjamini-Hochberg "
        f"would keep {by_bh}, no correction {uncorrected}; about {SIGNIFICANCE * family:.2g} would pass uncorrected by "
        "chance alone if KD did nothing). A cell that does not pass is *not shown*, which is not the same as no "
        "effect: its interval says how large a gain the seeds cannot rule out."
    ]
    for budget in sorted({s.budget for s in stats}):
        mine = [s for s in stats if s.budget == budget]
        helps, hurts = ([s for s in mine if verdict(s) == word] for word in ("helps", "hurts"))
        rest = [s for s in mine if not s.significant]
        unshown = ""
        if len(rest) == 1:
            unshown = f" Not shown in {'the other one' if len(mine) > 1 else 'it'}: {_unshown(rest[0])}."
        elif rest:
            where = f"the other {len(rest)}" if len(rest) < len(mine) else f"any of the {len(rest)}"
            largest, lowest = max(rest, key=lambda s: s.mean_gain), min(rest, key=lambda s: s.mean_gain)
            unshown = f" Not shown in {where}, whose mean gains run from {_unshown(largest)} to {_unshown(lowest)}."
        lines.append(
            f"- **{budget_words(*budget)}** (scratch student {mine[0].mean_baseline_accuracy:.2%}): of {len(mine)} "
            f"(T, alpha) setting{'s' if len(mine) != 1 else ''}, KD is shown to help in {_claims(helps)} and to hurt "
            f"in {_claims(hurts)}.{unshown}"
        )
    for name, key in (("temperature", "temperature"), ("alpha", "alpha")):
        values = sorted({getattr(s, key) for s in stats})
        means = ", ".join(
            f"{value:g}: {100 * statistics.fmean(s.mean_gain for s in stats if getattr(s, key) == value):+.2f}"
            for value in values
        )
        lines.append(
            f"- Mean paired gain in points by {name}, over every budget and the other setting "
            f"(a description, not a test): {means}."
        )
    return "\n".join(lines)


def _setting(stat: GainStat) -> str:
    return f"{stat.mean_gain * 100:+.2f} points at T = {stat.temperature:g}, alpha = {stat.alpha:g}"


def _claims(cells: list[GainStat]) -> str:
    listed = "; ".join(f"{_setting(s)}, Holm p = {format_p(s.p_holm)}" for s in cells)
    return f"{len(cells)} ({listed})" if cells else "0"


def _unshown(stat: GainStat) -> str:
    if stat.p_holm is None:
        return f"{_setting(stat)} (one seed, no test)"
    return f"{_setting(stat)} (Holm p = {format_p(stat.p_holm)}; uncorrected 95 % CI {interval(stat)})"


@dataclass(frozen=True)
class Choice:
    """What validation says at one budget: the (T, alpha) with the highest mean validation accuracy over the
    seeds, and the settings within one standard error of it (a tie with the best: a default among them may stay)."""

    limit: int
    epochs: int
    augment: bool
    omit_digits: str  # the digits left out of training ("": none)
    temperature: float
    alpha: float
    seeds: int
    validation_accuracy: float  # the best setting's mean, on the last 10,000 training images
    standard_error: float  # of that mean, over the seeds
    within: tuple[tuple[float, float, float], ...]  # (T, alpha, mean) of the others within one standard error
    baseline_validation_accuracy: float | None  # the scratch student's mean at that budget


def validation_choices(results: list[CellResult]) -> list[Choice]:
    """Per budget, the KD setting with the best mean validation accuracy, and those within one standard error.

    The test set plays no part: what the table reports on the test set is the consequence, not the criterion.
    The lab's rule (docs/results.md): a default changes only for a setting better by more than one standard
    error, so a tie within seed noise never moves it.
    """
    groups: dict[tuple, list[float]] = defaultdict(list)
    for row in results:
        if row.status == DONE and row.validation_accuracy is not None:
            setting = (0.0, 0.0) if row.alpha == 0 else (row.temperature, row.alpha)
            groups[(*_budget(row), *setting)].append(row.validation_accuracy)
    choices = []
    for budget in sorted({key[:4] for key in groups}):
        means = {key[4:]: statistics.fmean(v) for key, v in groups.items() if key[:4] == budget and key[5] > 0}
        if not means:
            continue
        errors = {setting: _error(groups[(*budget, *setting)]) for setting in means}
        # settings from the largest: of equal means, the larger (T, alpha) is the best
        pick = one_standard_error(dict(sorted(means.items(), reverse=True)), errors.__getitem__)
        values = groups[(*budget, *pick.best)]
        within = tuple((*setting, means[setting]) for setting in sorted(pick.ties))
        baseline = groups.get((*budget, 0.0, 0.0))
        choices.append(
            Choice(*budget, *pick.best, len(values), means[pick.best], pick.standard_error, within,
                   statistics.fmean(baseline) if baseline else None)
        )  # fmt: skip
    return choices


def choices_summary(choices: list[Choice]) -> str:
    """One line per budget: what validation picks, and what ties with it, in words."""
    lines = []
    for c in choices:
        scratch = "" if c.baseline_validation_accuracy is None else f"; scratch {c.baseline_validation_accuracy:.2%}"
        ties = ", ".join(f"T = {t:g}, alpha = {a:g} ({mean:.2%})" for t, a, mean in c.within) or "none"
        lines.append(
            f"- {budget_words(c.limit, c.epochs, c.augment, c.omit_digits)}: best T = {c.temperature:g}, "
            f"alpha = {c.alpha:g} "
            f"(mean validation accuracy {c.validation_accuracy:.2%} over {c.seeds} seeds, standard error "
            f"{c.standard_error * 100:.2f} points{scratch}); within one standard error: {ties}"
        )
    return "\n".join(lines)
