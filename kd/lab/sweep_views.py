"""A sweep as both apps show it: its progress, the paired gains of each budget, one cell seed by seed, every cell.

`Lab.sweep_view(name)` reads a sweep's folder (sweep.json and results.csv, reread only when
either changes) and computes its statistics once (kd.sweep.stats: paired gains over the seeds,
Holm's and Benjamini-Hochberg's corrections); the Streamlit Sweeps page and the Gradio Sweeps tab
only lay out what a `SweepView` says, so a sentence or a column changed here changes in both.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from pathlib import Path

from kd.lab.settings import shown_command
from kd.recipes import DASHBOARD_RUN
from kd.significance import format_p
from kd.status import DONE
from kd.sweep.results import RESULTS_FILE, SWEEP_FILE, provenance, read_results, read_sweep_record
from kd.sweep.stats import GainStat, budget_words, gains, interval, nearest, tested, verdict

SHIPPED_SWEEP = "results/sweep"  # made by `make sweep`: the one the README reads, shown first
CACHED_SWEEPS = 32  # sweeps whose statistics are kept, by folder and the files' modification times

Budget = tuple[int, int, bool, str]  # (training images, epochs, augmented, digits left out): GainStat.budget


def default_sweep(names: list[str]) -> str | None:
    """The sweep a page opens on: the shipped one where it is there, else the first listed."""
    return SHIPPED_SWEEP if SHIPPED_SWEEP in names else next(iter(names), None)


def budget_label(budget: Budget) -> str:
    return budget_words(*budget).replace(" x ", " × ")


@dataclass(frozen=True)
class SweepView:
    name: str  # as a visitor may see it ("results/sweep", "runs/sweep-..."), never a server path
    record: dict  # sweep.json
    rows: tuple[dict, ...]  # results.csv, one dict per recorded cell
    stats: tuple[GainStat, ...]  # the paired gains, every budget

    @property
    def done(self) -> int:
        return sum(row["status"] == DONE for row in self.rows)

    @property
    def unfinished(self) -> bool:
        """Still running (or interrupted): a page looks again for new cells."""
        return len(self.rows) < self.record["cells"]

    def progress(self) -> str:
        """'**3 of 12 cells done**, 1 failed. Command: `python -m kd sweep ...`' (Markdown)."""
        failed = len(self.rows) - self.done
        text = f"**{self.done} of {self.record['cells']} cells done**" + (f", {failed} failed" if failed else "")
        return text + f". Command: `{shown_command(self.record['command'])}`"

    def provenance(self) -> str:
        return provenance(self.record)

    def budgets(self) -> list[Budget]:
        return sorted({stat.budget for stat in self.stats})

    def of_budget(self, budget: Budget) -> list[GainStat]:
        return [stat for stat in self.stats if stat.budget == budget]

    def heatmap_cells(self, budget: Budget) -> list[dict]:
        """What dashboard.charts.gain_heatmap draws for one budget."""
        return [
            {"temperature": s.temperature, "alpha": s.alpha, "gain": s.mean_gain, "ci_low": s.ci_low,
             "ci_high": s.ci_high, "n": s.n, "p_holm": s.p_holm, "significant": s.significant}
            for s in self.of_budget(budget)
        ]  # fmt: skip

    def heatmap_caption(self) -> str:
        return (
            "Mean paired gain of the distilled student over the scratch student, in accuracy points (blue: KD "
            "helps, red: it hurts). A star marks a gain (or loss) that survives **Holm's correction across all "
            f"{tested(list(self.stats))} tested cells of this sweep** at 5 % (two-sided paired t-tests over the "
            "seeds): with that many cells, a few would pass an uncorrected test by chance. The table of every cell "
            "also gives the uncorrected p and Benjamini-Hochberg's, less strict. Hover for the uncorrected 95 % "
            "interval, Holm's p and the seeds."
        )

    def default_cell(self, budget: Budget) -> GainStat:
        """The Distill page's settings, or the nearest cell run; never the best cell, whose interval, picked for
        being the largest, would overstate the gain (the winner's curse)."""
        return nearest(self.of_budget(budget), DASHBOARD_RUN.temperature, DASHBOARD_RUN.alpha)

    def cell(self, budget: Budget, temperature: float, alpha: float) -> GainStat | None:
        return next((s for s in self.of_budget(budget) if (s.temperature, s.alpha) == (temperature, alpha)), None)

    def table(self) -> list[dict]:
        """Every cell of every budget, with its gain, interval and the three p-values (and the digits left out, in a
        sweep that left some out)."""
        omitting = any(s.omit_digits for s in self.stats)
        return [
            {
                "images": s.limit, "epochs": s.epochs, "augment": s.augment,
                **({"left out": s.omit_digits or "none"} if omitting else {}),
                "T": s.temperature, "alpha": s.alpha,
                "seeds": s.n, "distilled": s.mean_accuracy, "scratch": s.mean_baseline_accuracy,
                "gain (points)": s.mean_gain * 100,
                "CI low (uncorrected)": None if s.ci_low is None else s.ci_low * 100,
                "CI high (uncorrected)": None if s.ci_high is None else s.ci_high * 100,
                "p": s.p_value, "p (Holm)": s.p_holm, "p (BH)": s.p_bh, "KD (Holm, 5 %)": verdict(s),
            }
            for s in self.stats
        ]  # fmt: skip


def cell_summary(cell: GainStat) -> str:
    """One cell over its seeds, in a sentence (Markdown): accuracies, the mean paired gain, its interval and test."""
    test = (
        "one seed: no test"
        if cell.p_holm is None
        else f"p = {format_p(cell.p_value)}, Holm p = {format_p(cell.p_holm)}: "
        f"{'shown' if cell.significant else 'not shown'} after the correction"
    )
    return (
        f"T = {cell.temperature:g}, alpha = {cell.alpha:g}: distilled {cell.mean_accuracy:.2%} against scratch "
        f"{cell.mean_baseline_accuracy:.2%} over {cell.n} seeds, a mean paired gain of "
        f"**{cell.mean_gain * 100:+.2f} points** (95 % CI {interval(cell)} points, uncorrected; {test})."
    )


def read_sweep(name: str, folder: Path) -> SweepView:
    """The sweep in `folder`, reread when either of its files changes; OSError, ValueError or KeyError if unreadable."""
    stamp = tuple((folder / file).stat().st_mtime_ns for file in (RESULTS_FILE, SWEEP_FILE))
    record, rows, stats = _read(str(folder), stamp)
    return SweepView(name, record, rows, stats)


@functools.lru_cache(maxsize=CACHED_SWEEPS)
def _read(folder: str, stamp: tuple) -> tuple[dict, tuple[dict, ...], tuple[GainStat, ...]]:
    results = read_results(Path(folder) / RESULTS_FILE)
    return read_sweep_record(folder), tuple(asdict(row) for row in results), tuple(gains(results))
