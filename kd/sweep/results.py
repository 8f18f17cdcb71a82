"""A sweep's grid and its two files: sweep.json (grid, command, recipe, student, teacher, data split) and
results.csv (one row per cell).

results.csv is rewritten atomically as each cell finishes: the whole file goes to a temporary
file renamed over the old one, so a reader (the dashboard, `sweep-report`, a second terminal)
never sees half a row, and an interrupted sweep loses at most the cells in flight. A rerun keys
rows by their cell: a cell that is done is skipped, a failed one is trained again and its row
replaced.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kd.checkpoint import atomic_write
from kd.train import TrainConfig, check_omit_digits

RESULTS_FILE, SWEEP_FILE = "results.csv", "sweep.json"
GRID_FIELDS = ("temperature", "alpha", "seed", "limit", "epochs", "omit_digits")  # set per cell, not by the recipe


@dataclass(frozen=True)
class SweepGrid:
    temperatures: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
    alphas: tuple[float, ...] = (0.0, 0.5, 0.9, 1.0)  # 0 adds the scratch baselines, 1 is the teacher alone
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    limits: tuple[int, ...] = (1000, 5000, 50000)  # training images
    epochs: tuple[int, ...] = (3,)
    # other seeds for some limits, as (limit, seeds) pairs: more where the seed-to-seed spread is widest
    seeds_at: tuple[tuple[int, tuple[int, ...]], ...] = ()
    # the digit sets left out of training (kd.omitted), each a budget of its own with its own scratch baselines;
    # () leaves none out
    omitted: tuple[tuple[int, ...], ...] = ((),)

    def seeds_for(self, limit: int) -> tuple[int, ...]:
        return dict(self.seeds_at).get(limit, self.seeds)

    def all_seeds(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys([*self.seeds, *(seed for _, seeds in self.seeds_at for seed in seeds)]))


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep trains and where: the grid, every cell's other settings, the folder and the teacher."""

    grid: SweepGrid
    recipe: TrainConfig  # every cell's settings but the grid's fields
    out: str | Path  # the folder of its results.csv and sweep.json
    teacher: str | Path  # the checkpoint every cell distils from


@dataclass(frozen=True)
class CellResult:
    temperature: float  # for a baseline (alpha = 0) it is the recipe's and plays no part
    alpha: float  # share of the soft-target term: 0 = labels only (the scratch baseline)
    seed: int
    limit: int  # training images
    epochs: int
    augment: bool
    accuracy: float | None  # on the test set, read once after training; None when the cell failed
    validation_accuracy: float | None  # on the last 10,000 training images after the last epoch: what choices use
    errors: int | None
    ece: float | None
    agreement: float | None  # with the teacher's predictions
    train_seconds: float | None
    status: str  # DONE or FAILED
    error: str  # why it failed, "" when done
    command: str  # `python -m kd distill ...` that reproduces the cell
    versions: str  # JSON of the library versions the cell ran with
    omit_digits: str = ""  # the digits left out of its training images, "3" or "0,1,2" ("": none, as in older files)
    omitted_recall_before: float | None = None  # those digits' mean recall on the test set, as trained
    omitted_recall_after: float | None = None  # ... with the offset kd.omitted chose on validation

    @property
    def key(self) -> tuple:
        return cell_key(self)

    @classmethod
    def from_row(cls, row: dict[str, str]) -> CellResult:
        """A CSV row back into a typed result; a missing column or a bad number raises ValueError."""
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            if field.name not in row and field.default is not dataclasses.MISSING:
                values[field.name] = field.default  # a column added later: an older file's cells had its default
                continue
            if field.name not in row:
                raise ValueError(f"results.csv has no column {field.name!r}")
            text = row[field.name]
            kind = field.type.split(" | ")[0]
            if kind == "str":
                values[field.name] = text
            elif text == "" and field.type.endswith("| None"):
                values[field.name] = None
            elif kind == "bool":
                values[field.name] = {"True": True, "False": False}[text]
            else:
                values[field.name] = {"int": int, "float": float}[kind](text)
        return cls(**values)


COLUMNS = [field.name for field in dataclasses.fields(CellResult)]


def parse_numbers(text: str, kind: type, minimum: float | None = None) -> tuple:
    """Comma-separated numbers, e.g. `1,2,4,8`, without repeats; ValueError says what is wrong.

    One parser for the command line's lists and the Sweeps page's form.
    """
    try:
        values = tuple(dict.fromkeys(kind(part) for part in text.split(",")))
    except ValueError:
        raise ValueError(f"expected comma-separated {kind.__name__}s, got {text!r}") from None
    if minimum is not None and min(values) < minimum:
        raise ValueError(f"values must be at least {minimum}, got {text!r}")
    return values


def parse_seeds_at(text: str) -> tuple[int, tuple[int, ...]]:
    """`500:0,1,2` as (500, (0, 1, 2)): the seeds one limit runs instead of the grid's."""
    limit, colon, seeds = text.partition(":")
    try:
        if not colon:
            raise ValueError
        return int(limit), parse_numbers(seeds, int)
    except ValueError:
        raise ValueError(f"expected LIMIT:SEEDS such as 500:0,1,2, got {text!r}") from None


def digits_text(digits: tuple[int, ...] | str) -> str:
    """Left-out digits as results.csv writes them: "3", "7,8"; "" for none (text stays as it is)."""
    return digits if isinstance(digits, str) else ",".join(map(str, digits))


def parse_digit_sets(texts: list[str]) -> tuple[tuple[int, ...], ...]:
    """`none 3 0,1,2` as ((), (3,), (0, 1, 2)): the digit sets a sweep leaves out; ValueError says what is wrong."""
    sets = []
    for text in texts:
        if text == "none":
            sets.append(())
            continue
        try:
            sets.append(check_omit_digits(parse_numbers(text, int)))  # digits 0 to 9, not all ten
        except ValueError as exc:
            raise ValueError(f"expected none or comma-separated digits such as 3 or 7,8, got {text!r}: {exc}") from None
    return tuple(dict.fromkeys(sets))


def cell_key(cell: TrainConfig | CellResult) -> tuple:
    """What identifies a cell: a baseline's temperature plays no part, so it is left out."""
    temperature = None if cell.alpha == 0 else float(cell.temperature)
    omitted = digits_text(cell.omit_digits)
    return (temperature, float(cell.alpha), cell.seed, cell.limit, cell.epochs, cell.augment, omitted)


def read_results(path: str | Path) -> list[CellResult]:
    """The rows of a results.csv (an empty list if the file does not exist yet)."""
    path = Path(path)
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        try:
            return [CellResult.from_row(row) for row in csv.DictReader(handle)]
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path} is not a sweep's results.csv: {exc}") from None


def to_csv(results: list[CellResult]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for result in results:
        writer.writerow({k: "" if v is None else v for k, v in dataclasses.asdict(result).items()})
    return buffer.getvalue()


def record(path: str | Path, result: CellResult) -> None:
    """Add one cell's row to results.csv, replacing an earlier row of the same cell, atomically."""
    path = Path(path)
    rows = [row for row in read_results(path) if row.key != result.key]
    atomic_write(path, to_csv([*rows, result]).encode())


def read_sweep_record(folder: str | Path) -> dict[str, Any]:
    """A sweep folder's sweep.json (grid, command, recipe, number of cells); ValueError if it is not one."""
    path = Path(folder) / SWEEP_FILE
    try:
        sweep = json.loads(path.read_text())
        missing = {"command", "recipe", "cells"} - set(sweep)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"{path} is not readable: {exc}") from None
    if missing:
        raise ValueError(f"{path} lacks {', '.join(sorted(missing))}")
    if isinstance(sweep.get("grid"), dict):
        sweep["grid"] = {"omitted": [[]], **sweep["grid"]}  # written before the axis: no digit was left out
    return sweep


def provenance(sweep: dict[str, Any]) -> str:
    """Which student, teacher and data split a sweep.json says its cells measured, as a sentence for a report.

    A sweep.json written before the student and the split were recorded says so rather than guess.
    """
    student, data = sweep.get("student"), sweep.get("data")
    if student is None:
        said = "Student architecture: not recorded (this sweep.json predates it)"
    else:
        config = ", ".join(f"{key} {value}" for key, value in student["model_config"].items())
        said = f"Student: {student['parameters']:,}-parameter {student['architecture']} ({config})"
    said += f"; teacher weights sha256 {sweep.get('teacher_sha256', 'not recorded')}"
    said += f"; training data: {data['train']}; scored on {data['test']}" if data else "; data split: not recorded"
    return said + ". "
