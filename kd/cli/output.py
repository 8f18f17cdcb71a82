"""What a command prints without `--json`: short tables a person reads, not the record a program parses.

`kd evaluate` and the training commands (`train-teacher`, `distill`) get tables of the figures people compare
(accuracy, errors, macro F1, ECE, seconds); the test digits' packed hex, the calibration bins, the per-class rows
and the training history stay in `--json`. Results that carry Markdown (`kd report`) print it; anything else prints
one `key: value` line per field, as before.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

# The settings a training table shows, in this order, with the names the docs use.
SETTINGS = (
    ("epochs", "epochs"),
    ("batch_size", "batch"),
    ("learning_rate", "lr"),
    ("temperature", "T"),
    ("alpha", "alpha"),
    ("limit", "images"),
    ("augment", "augment"),
    ("mix", "mix"),
    ("seed", "seed"),
)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"


def fixed(value: float | None, places: int) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def kibibytes(value: int | None) -> str:
    return "-" if value is None else f"{value / 1024:.1f} KiB"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the first column left-aligned (names), the others right (figures)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        figures = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([cells[0].ljust(widths[0]), *figures]).rstrip()

    return "\n".join([line(header), *(line(row) for row in rows)])


def evaluation_text(models: dict[str, dict[str, Any]]) -> str:
    """One row per checkpoint of `kd evaluate`."""
    header = ("checkpoint", "accuracy", "errors", "macro F1", "ECE", "agreement", "parameters", "size")
    rows = [
        (
            path,
            percent(metrics["accuracy"]),
            count(metrics["errors"]),
            fixed(metrics["macro"]["f1"], 4),
            fixed(metrics["ece"], 4),
            percent(metrics.get("agreement")),
            count(metrics["parameters"]),
            kibibytes(metrics.get("size_bytes")),
        )
        for path, metrics in models.items()
    ]
    note = "Test set; agreement: share of test digits on which the model answers as --reference does. --json: all."
    return table(header, rows) + "\n" + note


def settings_text(config: dict[str, Any]) -> str:
    shown = []
    unused = {"temperature", "alpha"} if not config.get("alpha") else set()  # a teacher or scratch run has no T
    for key, name in SETTINGS:
        if key in config and key not in unused:
            value = config[key]
            shown.append(f"{name} {'all' if key == 'limit' and value is None else value}")
    return ", ".join(shown)


def training_text(result: dict[str, Any]) -> str:
    """A finished `train-teacher` or `distill` run: where it went, its settings and its test-set figures."""
    rows = [
        ("checkpoint", result["checkpoint"]),
        ("role", result["role"]),
        ("settings", settings_text(result["config"])),
        ("test accuracy", percent(result["accuracy"])),
        ("test errors", count(result["errors"])),
        ("agreement with the teacher", percent(result.get("agreement"))),
        ("ECE", fixed(result["ece"], 4)),
        ("parameters", count(result["parameters"])),
        ("training seconds", fixed(result["train_seconds"], 1)),
    ]
    if result.get("teacher_seconds"):  # 0 for a teacher or a scratch run
        rows.append(("of which the teacher's", fixed(result["teacher_seconds"], 1)))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def fields_text(result: dict[str, Any]) -> str:
    """Any other command: one `key: value` line per field (dicts and lists as JSON), the history left out."""
    return "\n".join(
        f"{key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}"
        for key, value in result.items()
        if key != "history"
    )


def is_evaluation(result: dict[str, Any]) -> bool:
    models = result.get("models")
    return isinstance(models, dict) and all(isinstance(m, dict) and "accuracy" in m for m in models.values())


def text(result: dict[str, Any]) -> str:
    """The human-readable form of a command's result."""
    if "markdown" in result:
        return result["markdown"]
    if is_evaluation(result):
        return evaluation_text(result["models"])
    if {"checkpoint", "role", "config", "accuracy"} <= set(result):
        return training_text(result)
    return fields_text(result)
