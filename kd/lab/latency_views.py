"""The latency board as both apps show it: the batch sizes timed, the figures, one summary table and the speed-up.

`Lab.latency_view` builds a `LatencyView` from the lab's board (kd.lab.measure) for the models a
visitor picked; the Streamlit Latency page and the Gradio Metrics and latency tab only lay it out,
so a column or a batch size added here shows in both.
"""

from __future__ import annotations

from dataclasses import dataclass

from kd.infer.bench import RUNTIMES
from kd.lab.catalog import ModelEntry
from kd.lab.measure import Measurement, cut_short

BATCH_SIZES = (1, 4, 16, 64, 256, 1024)  # what a measurement times: one drawing up to a large batch


def human_bytes(size: int | None) -> str:
    """A file's size in B, KB, MB or GB; "—" when unknown."""
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} B"
    for unit in ("KB", "MB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} GB"


@dataclass(frozen=True)
class LatencyView:
    """The latest figures of the models a visitor picked, and what is missing."""

    entries: tuple[ModelEntry, ...]
    figures: dict[str, Measurement]  # by model key: those measured so far
    measuring: bool  # a measurement is queued or running on this server

    @property
    def labels(self) -> dict[str, str]:
        return {entry.key: entry.label for entry in self.entries}

    @property
    def unmeasured(self) -> list[str]:
        """The labels of the picked models with no figures yet."""
        return [entry.label for entry in self.entries if entry.key not in self.figures]

    @property
    def rows(self) -> list[dict]:
        """kd.infer.bench rows of every figure, each with its model's label under "model" (for the charts)."""
        labels = self.labels
        return [{**row, "model": labels[key]} for key, figure in self.figures.items() for row in figure.rows]

    @property
    def threads(self) -> int | None:
        rows = self.rows
        return rows[0]["threads"] if rows else None

    def summary(self) -> list[dict]:
        """One row per model and runtime: size, one image's p50 and p95, the largest batch's p50 and throughput."""
        table = []
        for entry in self.entries:
            figure = self.figures.get(entry.key)
            for runtime in RUNTIMES if figure is not None else ():
                mine = [row for row in figure.rows if row["runtime"] == runtime]
                if not mine:
                    continue
                one, biggest = mine[0], mine[-1]
                parameters = entry.info.metrics.parameters
                table.append(
                    {
                        "model": entry.label,
                        "runtime": RUNTIMES[runtime],
                        "parameters": f"{parameters if parameters is not None else one['parameters']:,}",
                        "size on disk": human_bytes(entry.size_bytes),
                        "p50, 1 image (ms)": round(one["p50_ms"], 3),
                        "p95, 1 image (ms)": round(one["p95_ms"], 3),
                        f"p50, {biggest['batch_size']} images (ms)": round(biggest["p50_ms"], 2),
                        f"images/s at {biggest['batch_size']}": round(biggest["throughput"]),
                        "measured": f"{figure.where}, {figure.when}",
                    }
                )
        return table

    def short_note(self) -> str | None:
        """A sentence for figures that stop before the largest batch size (the measurement's time ran out)."""
        return cut_short(self.rows, BATCH_SIZES)

    def speedup(self) -> str | None:
        """How much faster the student answers one image than the teacher, where both were measured together."""
        teacher, student = self.figures.get("teacher"), self.figures.get("student")
        if teacher is None or student is None or teacher.measured_at != student.measured_at:
            return None
        first = BATCH_SIZES[0]
        ratio = teacher.p50_ms("torch", first) / student.p50_ms("torch", first)
        line = f"In PyTorch, the distilled student answers **{ratio:.1f}×** as fast as the teacher for one image"
        onnx_student, onnx_teacher = student.p50_ms("onnx", first), teacher.p50_ms("onnx", first)
        if onnx_student and onnx_teacher:
            line += (
                f"; in ONNX Runtime, **{student.p50_ms('torch', first) / onnx_student:.1f}×** as fast as in PyTorch "
                f"and **{onnx_teacher / onnx_student:.1f}×** as fast as the teacher in ONNX Runtime"
            )
        return line + "."
