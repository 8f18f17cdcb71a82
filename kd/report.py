"""The README's results table, computed from the shipped checkpoints on this host.

Accuracy, F1, calibration and agreement are measured on the test set now (not copied from
the checkpoints' metadata); latency is measured in one run so the models are compared on
the same machine state.
"""

from __future__ import annotations

import platform
import re
import time
from pathlib import Path
from typing import Any

import torch

from kd import checkpoint
from kd.bench import benchmark
from kd.data import load_mnist
from kd.evaluate import evaluate

MODELS = {"teacher": "Teacher", "scratch": "Scratch student (alpha = 0)", "student": "Distilled student"}
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def measure(directory: Path) -> dict[str, Any]:
    paths = {name: directory / f"{name}.safetensors" for name in MODELS}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise checkpoint.CheckpointError(f"missing checkpoints: {', '.join(missing)} (run `make checkpoints`)")
    models = {name: checkpoint.load(path) for name, path in paths.items()}
    data = load_mnist()
    metrics = {
        name: evaluate(model, data, reference=models["teacher"], checkpoint_path=paths[name])
        for name, model in models.items()
    }
    latency = benchmark(models, batch_sizes=(1, 1000), repeats=200)
    return {
        "metrics": metrics,
        "latency": latency,
        "commands": {name: checkpoint.read_metadata(path)["command"] for name, path in paths.items()},
    }


def markdown(measured: dict[str, Any]) -> str:
    metrics, latency = measured["metrics"], measured["latency"]
    timing = {(row["model"], row["batch_size"]): row for row in latency}
    teacher_b1, teacher_b1000 = timing["teacher", 1]["p50_ms"], timing["teacher", 1000]["p50_ms"]
    lines = [
        "| model | parameters | size | test accuracy | errors | macro F1 | ECE | agreement with teacher "
        "| latency, batch 1 (p50 / p95) | throughput, batch 1000 | speed-up vs teacher (batch 1 / 1000) |",
        "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, label in MODELS.items():
        m, b1, b1000 = metrics[name], timing[name, 1], timing[name, 1000]
        lines.append(
            f"| {label} | {m['parameters']:,} | {m['size_bytes'] / 1024:.0f} KiB | {m['accuracy']:.2%} "
            f"| {m['errors']} | {m['macro']['f1']:.4f} | {m['ece']:.4f} | {m['agreement']:.2%} "
            f"| {b1['p50_ms']:.3f} / {b1['p95_ms']:.3f} ms | {b1000['throughput']:,.0f} img/s "
            f"| {teacher_b1 / b1['p50_ms']:.1f}x / {teacher_b1000 / b1000['p50_ms']:.1f}x |"
        )
    lines += [
        "",
        "Per-class F1 on the test set:",
        "",
        "| model | " + " | ".join(str(c) for c in range(10)) + " |",
        "|:--|" + "--:|" * 10,
    ]
    for name, label in MODELS.items():
        lines.append(f"| {label} | " + " | ".join(f"{row['f1']:.4f}" for row in metrics[name]["per_class"]) + " |")
    threads = latency[0]["threads"]
    lines += [
        "",
        f"Measured by `python -m kd report` on {time.strftime('%Y-%m-%d')}: {platform.machine()}, "
        f"{threads} torch threads, torch {torch.__version__}, MNIST test set (10,000 images).",
    ]
    return "\n".join(lines)


def results_table(directory: Path) -> dict[str, Any]:
    measured = measure(directory)
    table = markdown(measured)
    checkpoint.atomic_write_json(
        directory / "results.json", {"command": "python -m kd report", **measured, "markdown": table}
    )
    return {"markdown": table, "results": str(directory / "results.json")}


def write_into_readme(readme: Path, table: str) -> None:
    """Replace what stands between the results markers in the README."""
    text = readme.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{readme} has no {BEGIN} ... {END} markers")
    checkpoint.atomic_write(readme, pattern.sub(lambda _: f"{BEGIN}\n{table}\n{END}", text).encode())
