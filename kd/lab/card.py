"""A finished run's result card, as data: both apps render the same rows, gain and per-class changes.

The fair comparison for a distilled run is its scratch twin: the same student trained with
alpha = 0 on the same images, epochs and seed, and the same mixing (kd.baselines), so the card
states what the teacher added over it, in points of test accuracy and per class.
"""

from __future__ import annotations

from dataclasses import dataclass

from kd.lab.omitted_view import OmittedSummary
from kd.lab.settings import shown_command
from kd.metadata import Metrics, ModelInfo

F1_TITLE = "Per-class F1 change vs the scratch student of the same budget and seed"  # the chart under the table


@dataclass(frozen=True)
class CardRow:
    name: str
    metrics: Metrics


@dataclass(frozen=True)
class ResultCard:
    run_id: str
    train_seconds: float
    rows: tuple[CardRow, ...]  # this run, the teacher, the scratch twin (those there are)
    gain_points: float | None  # test accuracy over the scratch twin, in percentage points
    f1_changes: tuple[float, ...] | None  # per class, this run's F1 minus the scratch twin's
    command: str  # the command line that trains this run again, with no server path in it
    teacher: str = "teacher"  # what the run learnt from, as the headline names it ("ensemble of 3 teachers")
    mix: str = "none"  # the run's mixing, which its scratch twin shares
    omitted: OmittedSummary | None = None  # the digits it trained without, before and after their offset

    @property
    def headline(self) -> str:
        text = f"Run {self.run_id} finished and was saved ({self.train_seconds:.0f} s of training)."
        if self.gain_points is not None:
            text += f" The {self.teacher} added {self.gain_points:+.2f} points over the scratch student of the same "
            text += "budget." if self.mix == "none" else f"budget, trained on the same {self.mix} images."
        return text

    @property
    def twin_note(self) -> str | None:
        """What the scratch twin is, in one sentence, for under the comparison; None if the card has no twin."""
        if self.gain_points is None:
            return None
        mixed = "" if self.mix == "none" else f", on the same {self.mix} images (it learns their mixed labels)"
        return (
            f"Scratch: the same student trained with alpha = 0 on the same images, epochs and seed{mixed} "
            "(trained once per budget, then remembered)."
        )

    def table(self) -> dict[str, dict[str, str]]:
        """The card's rows as both apps lay them out: row name -> column -> the figure as text."""
        return {
            row.name: {
                "test accuracy": f"{row.metrics.accuracy:.2%}",
                "agreement with the teacher": "—" if row.metrics.agreement is None else f"{row.metrics.agreement:.2%}",
                "ECE": f"{row.metrics.ece:.4f}",
                "macro F1": f"{row.metrics.macro_f1:.4f}",
            }
            for row in self.rows
        }


def twin_name(mix: str) -> str:
    """The scratch twin's row: what it shares with the run, its mixing too when the run mixes."""
    return "scratch, same budget and seed" if mix == "none" else f"scratch, same budget, seed and {mix}"


def result_card(run_id: str, info: ModelInfo, teacher: Metrics | None, teacher_name: str = "teacher") -> ResultCard:
    """The card of a finished run; `teacher`: the metrics of the teacher it learnt from, named `teacher_name`."""
    mix = info.train_config.get("mix", "none")  # checkpoints from before mixing have no such field
    rows = [CardRow("this run", info.metrics)]
    if teacher is not None:
        rows.append(CardRow("teacher", teacher))
    baseline, gain, changes = info.baseline, None, None
    if baseline is not None:
        rows.append(CardRow(twin_name(mix), baseline))
        gain = (info.metrics.accuracy - baseline.accuracy) * 100
        changes = tuple(
            mine - theirs for mine, theirs in zip(info.metrics.per_class_f1, baseline.per_class_f1, strict=True)
        )
    command = shown_command(info.command)
    return ResultCard(run_id, info.train_seconds, tuple(rows), gain, changes, command, teacher_name, mix)
