"""The command line of sweeps: `python -m kd sweep` and `python -m kd sweep-report` (wired in kd/cli/main.py).

kd.sweep.run (Ray, when asked for) and kd.sweep.stats (scipy) are imported when a command runs, not when the
parser is built: every `python -m kd` command builds this parser.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kd.cli.checks import UsageError
from kd.flags import add_dataclass_flags, from_args
from kd.pipeline import kd_command
from kd.status import DONE
from kd.sweep.results import (
    GRID_FIELDS,
    RESULTS_FILE,
    SWEEP_FILE,
    CellResult,
    SweepGrid,
    SweepSpec,
    parse_digit_sets,
    parse_numbers,
    parse_seeds_at,
    provenance,
    read_results,
    read_sweep_record,
)
from kd.sweep.shipped import SHIPPED_SWEEPS
from kd.train import TrainConfig

BEGIN, END = "<!-- sweep:begin -->", "<!-- sweep:end -->"


def number_list(kind: type, minimum: float | None = None):
    """An argparse type for comma-separated numbers (argparse shows an ArgumentTypeError's message)."""

    def parse(text: str) -> tuple:
        try:
            return parse_numbers(text, kind, minimum)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = f"list of {kind.__name__}"
    return parse


def limit_seeds(text: str) -> tuple[int, tuple[int, ...]]:
    try:
        return parse_seeds_at(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def digit_set(text: str) -> tuple[int, ...]:
    """One --omit-digits set: `none` or comma-separated digits such as 7,8."""
    try:
        (digits,) = parse_digit_sets([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return digits


def at_least_one(text: str) -> int:
    (value,) = number_list(int, 1)(text)
    return value


def add_sweep_flags(parser: argparse.ArgumentParser, default_teacher: str, preset: SweepSpec | None = None) -> None:
    """The sweep's flags; `preset` (a shipped sweep, by --preset) supplies their defaults, flags given override them."""
    grid = preset.grid if preset is not None else SweepGrid()
    parser.add_argument(
        "--preset", choices=list(SHIPPED_SWEEPS), default=None,
        help="start from a shipped sweep (kd/sweep/shipped.py): its grid, recipe, teacher and --out become the "
        "defaults",
    )  # fmt: skip

    def listed(values: tuple) -> str:
        return ",".join(f"{v:g}" for v in values)

    parser.add_argument(
        "--temperatures", type=number_list(float), default=grid.temperatures, help=listed(grid.temperatures)
    )
    parser.add_argument(
        "--alphas", type=number_list(float), default=grid.alphas,
        help=f"{listed(grid.alphas)}; 0 = labels only, the scratch baseline each KD cell is compared with",
    )  # fmt: skip
    parser.add_argument("--seeds", type=number_list(int), default=grid.seeds, help=listed(grid.seeds))
    parser.add_argument(
        "--seeds-at", type=limit_seeds, action="append", default=list(grid.seeds_at), metavar="LIMIT:SEEDS",
        help="other seeds for one limit, e.g. 500:0,1,2,3,4,5,6,7,8,9 (repeat for other limits)",
    )  # fmt: skip
    parser.add_argument(
        "--limits",
        type=number_list(int, 1),
        default=grid.limits,
        help=f"training images per cell ({listed(grid.limits)})",
    )
    parser.add_argument(
        "--epochs",
        dest="epoch_counts",
        type=number_list(int, 1),
        default=grid.epochs,
        help=f"per cell ({listed(grid.epochs)})",
    )
    parser.add_argument(
        "--omit-digits", dest="omitted", nargs="+", type=digit_set, default=list(grid.omitted), metavar="DIGITS",
        help="digit sets left out of the training images, one budget each with its own scratch baselines: `none`, "
        "or digits such as 3 or 7,8 (e.g. --omit-digits none 3); the offset for them is chosen on validation "
        "(default: none)",
    )  # fmt: skip
    out = preset.out if preset is not None else None
    parser.add_argument(
        "--out", default=out, help="folder for results.csv and sweep.json (a rerun resumes; a --preset has its own)"
    )
    parser.add_argument(
        "--teacher", default=preset.teacher if preset is not None else default_teacher,
        help="teacher checkpoint every cell learns from, and the reference of its agreement (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--backend", choices=("local", "ray"), default="local")
    parser.add_argument("--address", default=None, help="ray: `auto` or ray://host:10001 joins a running cluster")
    parser.add_argument(
        "--workers", type=at_least_one, default=None, help="ray: CPUs of the local cluster (default: all)"
    )
    parser.add_argument(
        "--keep-checkpoints", action="store_true", help="keep each cell's checkpoint in OUT/checkpoints"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    recipe = parser.add_argument_group("recipe", "training settings shared by every cell")
    defaults = {"augment": False} if preset is None else dataclasses.asdict(preset.recipe)
    add_dataclass_flags(recipe, TrainConfig, defaults=without(defaults, GRID_FIELDS), exclude=GRID_FIELDS)


def without(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key not in names}


def cell_reporter(description: str = "sweep"):
    """(on_start, on_result, close): a tqdm bar over cells on a terminal, else one stderr line per cell."""
    state: dict[str, Any] = {"bar": None, "started": time.perf_counter()}

    def on_start(total: int) -> None:
        if sys.stderr.isatty():
            from tqdm import tqdm

            state["bar"] = tqdm(total=total, desc=description, unit="cell", file=sys.stderr)
        elif total == 0:
            print(f"{description}: every cell is done already", file=sys.stderr)

    def on_result(result: CellResult, finished: int, total: int) -> None:
        if state["bar"] is not None:
            state["bar"].update(1)
            return
        elapsed = time.perf_counter() - state["started"]
        left = elapsed / finished * (total - finished)
        outcome = f"accuracy {result.accuracy:.2%}" if result.status == DONE else f"FAILED ({result.error})"
        print(
            f"{description}: cell {finished}/{total} T={result.temperature:g} alpha={result.alpha:g} "
            f"limit={result.limit} epochs={result.epochs} seed={result.seed}"
            f"{f' without {result.omit_digits}' if result.omit_digits else ''}: {outcome}; "
            f"{elapsed:.0f} s so far, about {left:.0f} s left",
            file=sys.stderr,
        )

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].close()

    return on_start, on_result, close


def run_sweep_command(args: argparse.Namespace) -> dict[str, Any]:
    from kd.sweep.run import Backend, run_sweep

    if args.out is None:
        raise UsageError("--out is required (or a --preset, which names its folder)")
    grid = SweepGrid(
        args.temperatures, args.alphas, args.seeds, args.limits, args.epoch_counts, tuple(args.seeds_at),
        tuple(dict.fromkeys(args.omitted)),
    )  # fmt: skip
    recipe = from_args(TrainConfig, args)  # the grid's fields have no flag here: each cell sets them
    on_start, on_result, close = cell_reporter()
    try:
        return run_sweep(
            SweepSpec(grid, recipe, args.out, args.teacher),
            Backend(args.backend, args.address, args.workers),
            keep_checkpoints=args.keep_checkpoints,
            command=kd_command(args.argv),
            on_start=on_start,
            on_result=on_result,
        )
    finally:
        close()


def add_sweep_report_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="a sweep's --out folder (results.csv and sweep.json)")
    parser.add_argument("--readme", default=None, help=f"also write the table between {BEGIN} and {END}")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run_sweep_report(args: argparse.Namespace) -> dict[str, Any]:
    from kd.cli.report import write_into_readme
    from kd.sweep.stats import choices_summary, gains, markdown, summary, tested, validation_choices

    folder = Path(args.folder)
    if not (folder / RESULTS_FILE).is_file() or not (folder / SWEEP_FILE).is_file():
        raise ValueError(f"{folder} is not a sweep folder: it needs {RESULTS_FILE} and {SWEEP_FILE}")
    results = read_results(folder / RESULTS_FILE)
    sweep = read_sweep_record(folder)
    stats = gains(results)
    done = sum(row.status == DONE for row in results)
    recipe = " ".join(f"{key}={value}" for key, value in sweep["recipe"].items())
    table = "\n".join(
        [
            summary(stats) if stats else "No distilled cell has its scratch baseline yet.",
            "",
            markdown(stats),
            "",
            "What validation picks (the last 10,000 training images, never the test set): the best mean over the "
            "seeds, and the settings within one standard error of it. A default changes only for a setting outside "
            'that band (docs/results.md, "How the recipe was chosen").',
            "",
            choices_summary(validation_choices(results)) or "- no cell has a validation accuracy",
            "",
            f"{done} of {sweep['cells']} cells done ({len(results) - done} failed). Gains are paired with the scratch "
            "student (alpha = 0) of the same seed and budget; the CI is Student t over the seeds, for each cell alone; "
            "p is the two-sided paired t-test, p (Holm) and p (BH) the same adjusted across all the sweep's tested "
            f"cells ({tested(stats)}) by Holm (what a claim rests on) and by Benjamini-Hochberg. "
            f"{provenance(sweep)}Sweep: `{sweep['command']}`; recipe: {recipe}. "
            f"Table: `python -m kd sweep-report {folder}`.",
        ]
    )
    if args.readme:
        write_into_readme(Path(args.readme), table, begin=BEGIN, end=END)
    return {"markdown": table, "rows": [asdict(stat) for stat in stats], "cells": sweep["cells"], "done": done}
