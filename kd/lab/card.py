"""A finished run's result card, as data: both apps render the same rows, gains and per-class changes.

The fair comparison for a distilled run is its scratch twin: the same student trained with
alpha = 0 on the same images, epochs and seed, and the same mixing (kd.baselines), so the card
states what the teacher added over it, in points of test accuracy and per class. A mixed run
has a second twin, the plain scratch student (no mixing): the mixed twin alone would credit the
teacher with what mixing took away from the labels-only student, so the card splits the run's
gain over the plain twin into the teacher's share (over the mixed twin) and the mixing's (the
mixed twin over the plain one).
"""

from __future__ import annotations

from dataclasses import dataclass

from kd.lab.omitted_view import OmittedSummary
from kd.lab.settings import shown_command
from kd.metadata import MetadataError, Metrics, ModelInfo

F1_TITLE = "Per-class F1 change vs the scratch student of the same budget and seed"  # the chart under the table
PLAIN_BASELINE = "plain_baseline"  # a mixed run's metadata field: its scratch twin without mixing (kd.lab.runs)
TWIN_TRAINING = (  # said while a saved run's scratch twin trains (kd.lab.runs): the card shows before its comparison
    "Its scratch twin (the same student from the labels alone) is training now; the comparison appears here in a "
    "few seconds."
)


@dataclass(frozen=True)
class CardRow:
    name: str
    metrics: Metrics


@dataclass(frozen=True)
class ResultCard:
    run_id: str
    train_seconds: float
    rows: tuple[CardRow, ...]  # this run, the teacher, the scratch twin, the plain twin (those there are)
    gain_points: float | None  # test accuracy over the scratch twin (the plain one where mixed), in points
    f1_changes: tuple[float, ...] | None  # per class, this run's F1 minus the scratch twin's
    command: str  # the command line that trains this run again, with no server path in it
    teacher: str = "teacher"  # what the run learnt from, as the headline names it ("ensemble of 3 teachers")
    mix: str = "none"  # the run's mixing, which its scratch twin shares
    teacher_points: float | None = None  # a mixed run: its accuracy over the mixed twin (the teacher's share)
    mixing_points: float | None = None  # a mixed run: the mixed twin's accuracy over the plain twin (the mixing's)
    omitted: OmittedSummary | None = None  # the digits it trained without, before and after their offset
    twin_pending: bool = False  # its scratch twin still training: the comparison is not there yet

    @property
    def headline(self) -> str:
        text = f"Run {self.run_id} finished and was saved ({self.train_seconds:.0f} s of training)."
        if self.twin_pending:
            return f"{text} {TWIN_TRAINING}"
        if self.gain_points is None:
            return text
        if self.mix == "none":
            gain = f" The {self.teacher} added {self.gain_points:+.2f} points"
            return text + gain + " over the scratch student of the same budget."
        if self.teacher_points is None or self.mixing_points is None:  # a run from before plain twins were kept
            return text + (
                f" The {self.teacher} added {self.gain_points:+.2f} points over the scratch student of the same "
                f"budget, trained on the same {self.mix} images."
            )
        return text + (
            f" {self.gain_points:+.2f} points over the plain scratch student of the same budget: the {self.teacher} "
            f"added {self.teacher_points:+.2f} (over a scratch student on the same {self.mix} images) and "
            f"{self.mix} {self.mixing_points:+.2f} (that student over the plain one)."
        )

    @property
    def gain_against(self) -> str:
        """What `gain_points` is measured against, in two words."""
        return "plain scratch" if self.mixing_points is not None else "scratch"

    @property
    def twin_note(self) -> str | None:
        """What the scratch twins are, in a sentence or two, for under the comparison; None if the card has none."""
        if self.gain_points is None:
            return None
        if self.mix == "none":
            return (
                "Scratch: the same student trained with alpha = 0 on the same images, epochs and seed "
                "(trained once per budget, then remembered)."
            )
        note = (
            f"Scratch: the same student trained with alpha = 0 on the same images, epochs and seed, on the same "
            f"{self.mix} images (it learns their mixed labels)"
        )
        if self.mixing_points is None:
            return note + " (trained once per budget, then remembered)."
        return note + "; plain scratch: the same without mixing (each trained once per budget, then remembered)."

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


PLAIN_TWIN = "plain scratch, same budget and seed"  # a mixed run's second twin, without mixing


def plain_twin(info: ModelInfo) -> Metrics | None:
    """A mixed run's plain scratch twin, if its record has a readable one."""
    record = info.raw.get(PLAIN_BASELINE)
    if not isinstance(record, dict):
        return None
    try:
        return Metrics.from_dict(record, "plain baseline")
    except MetadataError:
        return None


def points(a: Metrics, b: Metrics) -> float:
    """a's test accuracy over b's, in percentage points."""
    return (a.accuracy - b.accuracy) * 100


def result_card(run_id: str, info: ModelInfo, teacher: Metrics | None, teacher_name: str = "teacher") -> ResultCard:
    """The card of a finished run; `teacher`: the metrics of the teacher it learnt from, named `teacher_name`."""
    mix = info.train_config.get("mix", "none")  # checkpoints from before mixing have no such field
    rows = [CardRow("this run", info.metrics)]
    if teacher is not None:
        rows.append(CardRow("teacher", teacher))
    baseline, plain = info.baseline, plain_twin(info) if mix != "none" else None
    gain = changes = teacher_points = mixing_points = None
    if baseline is not None:
        rows.append(CardRow(twin_name(mix), baseline))
        gain = points(info.metrics, baseline)
        changes = tuple(
            mine - theirs for mine, theirs in zip(info.metrics.per_class_f1, baseline.per_class_f1, strict=True)
        )
        if plain is not None:
            rows.append(CardRow(PLAIN_TWIN, plain))
            teacher_points, mixing_points = gain, points(baseline, plain)
            gain = points(info.metrics, plain)
    command = shown_command(info.command)
    return ResultCard(
        run_id, info.train_seconds, tuple(rows), gain, changes, command, teacher_name, mix, teacher_points,
        mixing_points,
    )  # fmt: skip
