"""What the lab shows of a run trained without some digits (Hinton et al. 2015, section 3), as data for both apps.

Two parts. `OmittedSummary`, on the result card, is read from the records alone (no forward pass):
for each left-out digit, the test recall of the distilled student as trained and with the offset
kd.omitted chose on validation, of its scratch twin (it never saw the digit either: about 0 %) and
of the teacher (which saw every digit). `OffsetView` answers the card's offset control: the test
set's errors and each class's recall with any offset a visitor picks, and the curve of both over
every offset kd.omitted tries, from the run's test logits (one forward pass, cached by the lab).
The arithmetic is kd.omitted's (`scores`, `offset_vector`); the apps only render these records.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch

from kd import omitted
from kd.checks import is_number
from kd.lab.widgets import Range, offset_range
from kd.metadata import Metrics, ModelInfo

ALL_DIGITS = tuple(range(10))


def omitted_digits(values: object) -> tuple[int, ...]:
    """The digits a visitor (or an API client) leaves out, as sorted ints; ValueError, in words, for anything else.

    Takes what widgets send (a list of "3" or 3) or a string ("3", "3, 8"); None or nothing is none left out.
    """
    if values is None:
        return ()
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    if not isinstance(values, Iterable):
        raise ValueError(f"Leave out digits: pick digits from 0 to 9, got {values!r}")
    digits = set()
    for value in values:
        text = str(value).strip()
        if isinstance(value, bool) or not (text.isdecimal() and len(text) == 1):
            raise ValueError(f"Leave out digits: pick digits from 0 to 9, got {value!r}")
        digits.add(int(text))
    if len(digits) == len(ALL_DIGITS):
        raise ValueError("Leave out at most nine digits: with all ten left out there is nothing to train on")
    return tuple(sorted(digits))


def named(digits: Iterable[int]) -> str:
    """'3', '3 and 8', '1, 3 and 8': the left-out digits in a sentence."""
    names = [str(digit) for digit in digits]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass(frozen=True)
class Recall:
    """One model's test recall of each left-out digit ("3" -> fraction) and its test errors, with and without
    the offset; `corrected` is None for a model that has none (the teacher saw every digit)."""

    name: str
    as_trained: dict[str, float]
    corrected: dict[str, float] | None
    errors: int
    corrected_errors: int | None


@dataclass(frozen=True)
class OmittedSummary:
    """The result card's part for a run with left-out digits: recall of each, before and after the offset."""

    digits: tuple[int, ...]
    offset: float  # added to the left-out digits' logits, chosen on validation by kd.omitted.RULE
    rule: str
    rows: tuple[Recall, ...]  # this run, its scratch twin, the teacher (those there are)
    test_size: int

    @property
    def headline(self) -> str:
        mine = self.rows[0]
        read = ", ".join(
            f"{mine.as_trained[str(d)]:.1%} of the test {d}s as trained, {mine.corrected[str(d)]:.1%} with the offset"
            for d in self.digits
        )
        return (
            f"This student never saw a {named(self.digits)} in training; it read {read}. The offset, "
            f"+{self.offset:g} on the logit{'s' if len(self.digits) > 1 else ''} of {named(self.digits)}, was "
            f"chosen on the validation images: {self.rule}."
        )

    def table(self) -> dict[str, dict[str, str]]:
        """Row name -> column -> the figure as text, as both apps lay it out."""

        def cell(value: float | None) -> str:
            return "—" if value is None else f"{value:.1%}"

        table = {}
        for row in self.rows:
            cells = {}
            for digit in map(str, self.digits):
                cells[f"{digit}s read, as trained"] = cell(row.as_trained[digit])
                cells[f"{digit}s read, with its offset"] = cell(row.corrected[digit] if row.corrected else None)
            after = "—" if row.corrected_errors is None else f"{row.corrected_errors:,}"
            cells[f"test errors (of {self.test_size:,}), as trained → with its offset"] = f"{row.errors:,} → {after}"
            table[row.name] = cells
        return table


def recall_of(name: str, record: dict[str, Any]) -> Recall:
    """A model's row from the "omitted" record kd.omitted writes (a run's, or its scratch twin's)."""
    before, after = record["test"]["before"], record["test"]["after"]
    return Recall(name, before["recall"], after["recall"], before["errors"], after["errors"])


def omitted_summary(info: ModelInfo, teacher: Metrics | None, twin_name: str) -> OmittedSummary | None:
    """The card's part for a run with left-out digits; None for one without (or a record that lacks it)."""
    record = info.raw.get("omitted")
    if not isinstance(record, dict):
        return None
    try:
        digits = tuple(int(digit) for digit in record["digits"])
        rows = [recall_of("this run", record)]
        twin = info.baseline.raw.get("omitted") if info.baseline is not None else None
        if isinstance(twin, dict):
            rows.append(recall_of(f"{twin_name} (never saw them either)", twin))
        if teacher is not None:
            recall = {str(d): float(teacher.raw["per_class"][d]["recall"]) for d in digits}
            rows.append(Recall("teacher (saw every digit)", recall, None, teacher.errors, None))
        return OmittedSummary(digits, float(record["offset"]), str(record["rule"]), tuple(rows), info.metrics.test_size)
    except (KeyError, TypeError, ValueError, IndexError):
        return None  # a malformed record: the card shows the rest


@dataclass(frozen=True)
class OffsetCurve:
    """Test errors and each left-out digit's recall at every offset kd.omitted tries (what the chart draws)."""

    offsets: tuple[float, ...]
    errors: tuple[int, ...]
    recall: dict[str, tuple[float, ...]]


def offset_curve(logits: torch.Tensor, labels: torch.Tensor, digits: tuple[int, ...]) -> OffsetCurve:
    """The curve over kd.omitted.OFFSETS, from test logits (N, 10) and labels (N,)."""
    scored = [omitted.scores(logits, labels, digits, float(offset)) for offset in omitted.OFFSETS]
    return OffsetCurve(
        tuple(float(offset) for offset in omitted.OFFSETS),
        tuple(row["errors"] for row in scored),
        {str(d): tuple(row["recall"][str(d)] for row in scored) for d in digits},
    )


@dataclass(frozen=True)
class OffsetView:
    """The test set with one offset a visitor picked: what the card's offset control shows."""

    digits: tuple[int, ...]
    chosen: float  # the offset chosen on validation (marked)
    offset: float  # the visitor's
    errors: int
    errors_as_trained: int
    errors_chosen: int
    recall_at_offset: dict[str, float]  # each left-out digit's
    per_class_as_trained: tuple[float, ...]  # recall of each class 0..9 with no offset
    per_class_at_offset: tuple[float, ...]  # ... and with the visitor's
    curve: OffsetCurve
    slider: Range  # the control's range, its default the chosen offset

    @property
    def caption(self) -> str:
        read = ", ".join(f"{self.recall_at_offset[str(d)]:.1%} of the test {d}s" for d in self.digits)
        return (
            f"With +{self.offset:g} on the logit{'s' if len(self.digits) > 1 else ''} of {named(self.digits)}: "
            f"{read} read, {self.errors:,} test errors (as trained: {self.errors_as_trained:,}; with the offset "
            f"chosen on validation, +{self.chosen:g}: {self.errors_chosen:,})."
        )


def check_offset(value: object) -> float:
    """The visitor's offset as a float in kd.omitted's range; ValueError, in words, for anything else."""
    low, high = float(omitted.OFFSETS[0]), float(omitted.OFFSETS[-1])
    try:
        offset = float(value)  # a slider sends a float, an API client anything
    except (TypeError, ValueError):
        offset = math.nan
    if not (is_number(offset) and low <= offset <= high):
        raise ValueError(f"The offset must be a number from {low:g} to {high:g}, got {value!r}")
    return offset


def offset_view(
    logits: torch.Tensor, labels: torch.Tensor, summary: OmittedSummary, curve: OffsetCurve, offset: float | None
) -> OffsetView:
    """The test set with `offset` (None: the chosen one) on the left-out digits' logits; ValueError for a bad one."""
    digits, chosen = summary.digits, summary.offset
    offset = chosen if offset is None else check_offset(offset)
    # every class's recall: the offset goes on the left-out digits' logits, then all ten are scored
    at_offset = omitted.scores(logits + omitted.offset_vector(digits, offset), labels, ALL_DIGITS)
    as_trained = omitted.scores(logits, labels, ALL_DIGITS)
    return OffsetView(
        digits=digits,
        chosen=chosen,
        offset=offset,
        errors=at_offset["errors"],
        errors_as_trained=as_trained["errors"],
        errors_chosen=omitted.scores(logits, labels, digits, chosen)["errors"],
        recall_at_offset={str(d): at_offset["recall"][str(d)] for d in digits},
        per_class_as_trained=tuple(as_trained["recall"][str(d)] for d in ALL_DIGITS),
        per_class_at_offset=tuple(at_offset["recall"][str(d)] for d in ALL_DIGITS),
        curve=curve,
        slider=offset_range(chosen),
    )
