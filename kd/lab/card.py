"""A finished run's result card, as data: both apps render the same rows, gain and per-class changes.

The fair comparison for a distilled run is its scratch twin: the same student trained with
alpha = 0 on the same images, epochs and seed (kd.baselines), so the card states what the
teacher added over it, in points of test accuracy and per class.
"""

from __future__ import annotations

from dataclasses import dataclass

from kd.lab.settings import shown_command
from kd.metadata import Metrics, ModelInfo


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

    @property
    def headline(self) -> str:
        text = f"Run {self.run_id} finished and was saved ({self.train_seconds:.0f} s of training)."
        if self.gain_points is not None:
            text += f" The teacher added {self.gain_points:+.2f} points over the scratch student of the same budget."
        return text


def result_card(run_id: str, info: ModelInfo, teacher: Metrics | None) -> ResultCard:
    rows = [CardRow("this run", info.metrics)]
    if teacher is not None:
        rows.append(CardRow("teacher", teacher))
    baseline, gain, changes = info.baseline, None, None
    if baseline is not None:
        rows.append(CardRow("scratch, same budget and seed", baseline))
        gain = (info.metrics.accuracy - baseline.accuracy) * 100
        changes = tuple(
            mine - theirs for mine, theirs in zip(info.metrics.per_class_f1, baseline.per_class_f1, strict=True)
        )
    return ResultCard(run_id, info.train_seconds, tuple(rows), gain, changes, shown_command(info.command))
