"""Compare runs: the training curves of two or more finished models overlaid, and their settings side by side.

The TensorBoard habit inside the lab: every checkpoint records its `history` (per epoch: the
training loss and the validation accuracy on the last 10,000 training images), so the visitor's
runs and the shipped models can be laid over each other without training anything. Both apps
render a `RunComparison` (Lab.compare_runs); this module reads metadata only, no tensors.
"""

from __future__ import annotations

from dataclasses import dataclass

from kd.lab.catalog import ModelEntry, run_teacher

MIN_MODELS = 2


@dataclass(frozen=True)
class RunComparison:
    histories: dict[str, list[dict]]  # model label -> its history rows: epoch, loss, validation_accuracy
    settings: dict[str, dict[str, str]]  # model label -> setting -> the value as text, one column per model


def comparable(entries: list[ModelEntry]) -> list[ModelEntry]:
    """The models that have curves to compare (an ensemble of teachers trained nothing itself)."""
    return [entry for entry in entries if entry.info.history]


def first_picks(entries: list[ModelEntry]) -> list[str]:
    """What a Compare runs picker starts with: the shipped distilled and scratch students and the newest run."""
    keys = {entry.key for entry in entries}
    runs = [entry.key for entry in entries if entry.is_run]
    return [key for key in ("student", "scratch") if key in keys] + runs[:1]


def settings(entry: ModelEntry) -> dict[str, str]:
    """What a model was trained with, and how it scored, as the comparison's column for it."""
    info, config = entry.info, entry.info.train_config
    distilled = info.role != "teacher" and config.get("alpha", 0) > 0
    mix = config.get("mix", "none")
    return {
        "role": info.role,
        "teacher": run_teacher(info) if distilled else "—",
        "temperature T": f"{config['temperature']:g}" if distilled else "—",
        "alpha": f"{config.get('alpha', 0):g}" + (" (a switch: mixed)" if distilled and mix != "none" else ""),
        "mixing": mix,
        "epochs": str(config.get("epochs", "—")),
        "training images": f"{info.train_images:,}",
        "augmentation": {True: "yes", False: "no"}.get(config.get("augment"), "—"),
        "seed": str(config.get("seed", "—")),
        "batch size": str(config.get("batch_size", "—")),
        "learning rate": f"{config['learning_rate']:g}" if "learning_rate" in config else "—",
        "best validation accuracy": f"{max(row['validation_accuracy'] for row in info.history):.2%}",
        "test accuracy": f"{info.metrics.accuracy:.2%}",
        "training time": f"{info.train_seconds:.0f} s",
    }


def compare_runs(entries: list[ModelEntry]) -> RunComparison:
    """The curves and settings of these models; ValueError, a sentence to show, unless two or more have curves."""
    found = comparable(entries)
    if len(found) < MIN_MODELS:
        raise ValueError("Pick two or more trained models to compare (an ensemble of teachers has no curves).")
    return RunComparison(
        {entry.label: list(entry.info.history) for entry in found}, {entry.label: settings(entry) for entry in found}
    )
