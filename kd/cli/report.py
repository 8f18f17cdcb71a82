"""The README's results table and the full one, computed from the shipped checkpoints on this host.

Accuracy, F1, calibration and agreement are measured on the test set now (not copied from
the checkpoints' metadata); latency is measured in one run so the models are compared on
the same machine state. The README gets a narrow table (seven columns: what a first reader
compares); the full one, with agreement, throughput, ONNX Runtime and per-class F1, goes to
`results.md` beside the checkpoints and `results.json`, all three from the same measurement.
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from kd import checkpoint
from kd.data import load_mnist
from kd.evaluate import evaluate
from kd.infer.bench import RUNTIMES, benchmark, canvas_latency, host
from kd.lab.catalog import SHIPPED
from kd.predict import logits
from kd.significance import McNemar, mcnemar

# the table's rows: the teacher, then the scratch baseline right above the distilled student it is judged against
MODELS = {name: SHIPPED[name] for name in ("teacher", "scratch", "student")}
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
# the test-set comparisons the README's claims rest on: (A, B) for McNemar's test, A first in the sentence
COMPARED = (("student", "scratch"), ("student", "teacher"))
SHORT_NAMES = {"teacher": "teacher", "scratch": "scratch", "student": "distilled"}
FULL_TABLE = "results.md"  # the full table's page, beside the checkpoints and results.json
CHECKPOINTS_LINK = "checkpoints"  # where the README (at the repository's root) finds that page


def measure(directory: Path) -> dict[str, Any]:
    paths = {name: directory / f"{name}.safetensors" for name in MODELS}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise checkpoint.CheckpointError(f"missing checkpoints: {', '.join(missing)} (run `make checkpoints`)")
    models = {name: checkpoint.load(path) for name, path in paths.items()}
    data = load_mnist()
    outputs = {name: logits(model, data.test_images) for name, model in models.items()}  # one pass per model
    metrics = {
        name: evaluate(
            model, data, reference=models["teacher"], checkpoint_path=paths[name], model_logits=outputs[name]
        )
        for name, model in models.items()
    }
    labels = data.test_labels.numpy()
    correct = {name: output.argmax(1).numpy() == labels for name, output in outputs.items()}
    significance = [{"a": a, "b": b, **dataclasses.asdict(mcnemar(correct[a], correct[b]))} for a, b in COMPARED]
    # One image at a time is measured both with all cores and single-threaded: for tensors this
    # small, splitting each layer across threads costs about as much as it saves. PyTorch and ONNX
    # Runtime are timed side by side in this one process.
    latency = benchmark(models, batch_sizes=(1, 1000), repeats=300, runtimes=tuple(RUNTIMES))
    latency += benchmark(models, (1,), repeats=300, threads=1, runtimes=tuple(RUNTIMES))
    # a test digit blown up to a 280x280 RGBA canvas, as the dashboard's canvas returns it
    digit = np.kron(data.test_images[0].numpy(), np.ones((10, 10), np.uint8))
    canvas = np.dstack([digit, digit, digit, np.full_like(digit, 255)])
    drawing = canvas_latency({name: models[name] for name in ("teacher", "student")}, canvas, repeats=200)
    return {
        "measured": {"date": time.strftime("%Y-%m-%d", time.gmtime()), "host": host()},
        "metrics": metrics,
        "latency": latency,
        "canvas_latency": drawing,
        "mcnemar": significance,
        "commands": {name: checkpoint.read_metadata(path)["command"] for name, path in paths.items()},
    }


def _timing(measured: dict[str, Any]) -> tuple[int, dict[tuple, dict[str, Any]]]:
    """The most threads measured, and each latency row by (model, batch size, threads, runtime)."""
    latency = measured["latency"]
    return max(row["threads"] for row in latency), {
        (row["model"], row["batch_size"], row["threads"], row["runtime"]): row for row in latency
    }


def _measured_line(measured: dict[str, Any]) -> str:
    return (
        f"Measured by `python -m kd report` on {measured['measured']['date']}: {measured['measured']['host']}, "
        "MNIST test set (10,000 images)."
    )


def readme_markdown(measured: dict[str, Any]) -> str:
    """The README's table: seven columns, McNemar's verdicts, and where the rest is."""
    metrics = measured["metrics"]
    _, timing = _timing(measured)
    lines = [
        "| model | parameters | size | test accuracy | errors | ECE | latency, 1 image, 1 thread |",
        "|:--|--:|--:|--:|--:|--:|--:|",
    ]
    for name, label in MODELS.items():
        m = metrics[name]
        lines.append(
            f"| {label} | {m['parameters']:,} | {m['size_bytes'] / 1024:.0f} KiB | {m['accuracy']:.2%} "
            f"| {m['errors']} | {m['ece']:.4f} | {timing[name, 1, 1, 'torch']['p50_ms']:.3f} ms |"
        )
    lines += [
        "",
        _significance(measured["mcnemar"]),
        "",
        "Latency: the median of a PyTorch forward pass, BatchNorm folded into the convolutions. Macro F1, "
        "agreement with the teacher, throughput, ONNX Runtime and per-class F1: "
        f"[the full table]({CHECKPOINTS_LINK}/{FULL_TABLE}).",
        "",
        _measured_line(measured),
    ]
    return "\n".join(lines)


def full_markdown(measured: dict[str, Any]) -> str:
    """Every figure of the measurement: the page beside the checkpoints."""
    metrics = measured["metrics"]
    threads, timing = _timing(measured)
    columns = [(1, threads, "torch"), (1, 1, "torch"), (1000, threads, "torch")]
    lines = [
        "# The shipped models, measured",
        "",
        "Written by `python -m kd report` (`make report`) with the README's narrow table; not typed by hand.",
        "",
        "| model | parameters | size | test accuracy | errors | macro F1 | ECE | agreement with teacher "
        f"| latency, batch 1 ({threads} threads / 1 thread) | throughput, batch 1000 "
        f"| speed-up vs teacher: batch 1 ({threads} threads / 1 thread) / batch 1000 "
        f"| ONNX Runtime latency, batch 1 ({threads} threads / 1 thread) | ONNX Runtime throughput, batch 1000 |",
        "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, label in MODELS.items():
        m = metrics[name]
        speed_up = " / ".join(
            f"{timing[('teacher', *c)]['p50_ms'] / timing[(name, *c)]['p50_ms']:.1f}x" for c in columns
        )
        lines.append(
            f"| {label} | {m['parameters']:,} | {m['size_bytes'] / 1024:.0f} KiB | {m['accuracy']:.2%} "
            f"| {m['errors']} | {m['macro']['f1']:.4f} | {m['ece']:.4f} | {m['agreement']:.2%} "
            f"| {timing[name, 1, threads, 'torch']['p50_ms']:.3f} / {timing[name, 1, 1, 'torch']['p50_ms']:.3f} ms "
            f"| {timing[name, 1000, threads, 'torch']['throughput']:,.0f} img/s | {speed_up} "
            f"| {timing[name, 1, threads, 'onnx']['p50_ms']:.3f} / {timing[name, 1, 1, 'onnx']['p50_ms']:.3f} ms "
            f"| {timing[name, 1000, threads, 'onnx']['throughput']:,.0f} img/s |"
        )
    lines += [
        "",
        _significance(measured["mcnemar"]),
        "",
        "Per-class F1 on the test set:",
        "",
        "| model | " + " | ".join(str(c) for c in range(10)) + " |",
        "|:--|" + "--:|" * 10,
    ]
    for name, label in MODELS.items():
        lines.append(f"| {label} | " + " | ".join(f"{row['f1']:.4f}" for row in metrics[name]["per_class"]) + " |")
    drawing = measured["canvas_latency"]
    one = {name: timing[name, 1, 1, "onnx"]["p50_ms"] for name in ("teacher", "student")}
    lines += [
        "",
        "Latency is the median (p50) of a forward pass with BatchNorm folded into the convolutions; "
        "`results.json` beside the checkpoints also has the p95 of each. The PyTorch columns run the model "
        "eagerly; the ONNX Runtime columns run the same folded graph exported to ONNX (`python -m kd export`) "
        "with as many intra-op threads, in the same process. One image on one thread: the ONNX Runtime "
        f"student answers {timing['student', 1, 1, 'torch']['p50_ms'] / one['student']:.1f}x as fast as the "
        f"PyTorch student and {one['teacher'] / one['student']:.1f}x as fast as the ONNX Runtime teacher. "
        "A 280x280 drawing to both the teacher's "
        f"and the student's probabilities, preprocessing included: {drawing['p50_ms']:.1f} ms p50, "
        f"{drawing['p95_ms']:.1f} ms p95.",
        "",
        _measured_line(measured),
    ]
    return "\n".join(lines)


def _significance(comparisons: list[dict[str, Any]]) -> str:
    """The lines under the table: whether each compared gap in test accuracy is more than test-set noise."""
    lines = [
        "Is a gap more than test-set noise? McNemar's exact test on the test digits one model gets right and the "
        "other wrong:"
    ]
    for row in comparisons:
        a, b = SHORT_NAMES[row["a"]], SHORT_NAMES[row["b"]]
        lines.append(f"- {a} vs {b}: {McNemar(row['a_only'], row['b_only'], row['p_value']).describe(a, b)}.")
    return "\n".join(lines)


def results_table(directory: Path) -> dict[str, Any]:
    """Measure, write results.json and the full table beside the checkpoints; the README's table comes back."""
    measured = measure(directory)
    table, full = readme_markdown(measured), full_markdown(measured)
    checkpoint.atomic_write_json(
        directory / "results.json",
        {"command": "python -m kd report", **measured, "markdown": table, "full_markdown": full},
    )
    checkpoint.atomic_write(directory / FULL_TABLE, (full + "\n").encode())
    return {"markdown": table, "full_table": str(directory / FULL_TABLE), "results": str(directory / "results.json")}


def write_into_readme(readme: Path, table: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace what stands between two markers in the README (by default the results markers)."""
    text = readme.read_text()
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{readme} has no {begin} ... {end} markers")
    checkpoint.atomic_write(readme, pattern.sub(lambda _: f"{begin}\n{table}\n{end}", text).encode())
