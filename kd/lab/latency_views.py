"""The latency board as both apps show it: the batch sizes timed, the figures, one summary table and the speed-up.

`Lab.latency_view` builds a `LatencyView` from the lab's board (kd.lab.measure) for the models a
visitor picked; the Streamlit Latency page and the Gradio Metrics and latency tab only lay it out,
so a column or a batch size added here shows in both.

One latency story: every page quotes the reference figures of the measurement file that
`kd report` writes (checkpoints/results.json), with its date and machine. A fresh measurement
on this server is shown beside them, never in their place, and says how noisy it was (the spread
of one image's timings, the server's load): on a shared server a busy minute can make p95 a
hundred times p50, and such figures must not pass for the quiet ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kd.infer.bench import RUNTIMES
from kd.lab.catalog import ModelEntry
from kd.lab.measure import Measurement, cut_short

BATCH_SIZES = (1, 4, 16, 64, 256, 1024)  # what a measurement times: one drawing up to a large batch
NOISY_SPREAD = 2.0  # p95 over p50 of one image beyond which timings are called noisy (quiet machines: about 1.3)


def human_bytes(size: int | None) -> str:
    """A file's size in KiB (MiB, GiB when large): one unit family everywhere, as `kd report` writes sizes."""
    if size is None:
        return "—"
    size /= 1024
    for unit in ("KiB", "MiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def spread(figure: Measurement, runtime: str = "torch") -> float | None:
    """p95 over p50 of one image's timings: how noisy a measurement was (None without those rows)."""
    one = [row for row in figure.rows if row["runtime"] == runtime and row["batch_size"] == BATCH_SIZES[0]]
    return one[0]["p95_ms"] / one[0]["p50_ms"] if one and one[0]["p50_ms"] > 0 else None


@dataclass(frozen=True)
class LatencyView:
    """The latest figures of the models a visitor picked, the reference figures beside them, and what is missing."""

    entries: tuple[ModelEntry, ...]
    figures: dict[str, Measurement]  # by model key: the latest of each measured so far (the reference until then)
    measuring: bool  # a measurement is queued or running on this server
    reference: dict[str, Measurement] = field(default_factory=dict)  # by model key: `kd report`'s quiet figures
    load: tuple[float, int] | None = None  # the server's load average over a minute, and its cores, when viewed

    @property
    def labels(self) -> dict[str, str]:
        return {entry.key: entry.label for entry in self.entries}

    @property
    def unmeasured(self) -> list[str]:
        """The labels of the picked models with no figures yet."""
        return [entry.label for entry in self.entries if entry.key not in self.figures]

    @property
    def fresh(self) -> dict[str, Measurement]:
        """The figures measured on this server since it started (those that are not the reference's)."""
        return {key: figure for key, figure in self.figures.items() if figure is not self.reference.get(key)}

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
        """One row per model, runtime and measurement (a fresh one above the reference it does not replace): size,
        one image's p50 and p95, the largest batch's p50 and throughput, and when and where it was measured."""
        table = []
        for entry in self.entries:
            latest, reference = self.figures.get(entry.key), self.reference.get(entry.key)
            if latest is not None and latest is not reference:
                table += summary_rows(entry, latest, "this server")
            if reference is not None:
                table += summary_rows(entry, reference, "kd report")
        return table

    def notes(self) -> list[str]:
        """Where and when each set of figures was measured, and, for a fresh one, how noisy it was, in sentences."""
        by_time: dict[tuple[str, str], list[str]] = {}
        for key, figure in (*self.reference.items(), *self.fresh.items()):
            if key in self.labels:
                by_time.setdefault((figure.where, figure.when), []).append(self.labels[key])
        lines = [f"{', '.join(names)}: measured on {where} at {when}." for (where, when), names in by_time.items()]
        for note in (self.noisy(), cut_short(self.rows, BATCH_SIZES)):
            if note is not None:
                lines.append(note)
        return lines

    def noisy(self) -> str | None:
        """A warning when this server's fresh figures are noisy (a wide spread, or more load than cores), else None."""
        spreads = [value for value in map(spread, self.fresh.values()) if value is not None]
        loaded = self.load is not None and self.load[0] > self.load[1]
        if not spreads or (max(spreads) < NOISY_SPREAD and not loaded):
            return None
        load = f"; load {self.load[0]:.1f} on {self.load[1]} cores now" if self.load is not None else ""
        quiet = " The quiet reference figures from `kd report` stay beside them." if self.reference else ""
        return (
            f"This server was busy when it measured: p95 up to {max(spreads):.1f}× p50 for one image{load}. "
            f"Its fresh figures are noisy.{quiet}"
        )

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


def summary_rows(entry: ModelEntry, figure: Measurement, source: str) -> list[dict]:
    """One model's summary rows from one measurement, a row per runtime it was timed in; `source`, in two words,
    says which measurement (the notes say where in full): a narrow last column."""
    table = []
    for runtime in RUNTIMES:
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
                "size": human_bytes(entry.size_bytes),
                "p50, 1 image (ms)": round(one["p50_ms"], 3),
                "p95, 1 image (ms)": round(one["p95_ms"], 3),
                f"p50, {biggest['batch_size']} images (ms)": round(biggest["p50_ms"], 2),
                f"images/s at {biggest['batch_size']}": round(biggest["throughput"]),
                "measured": f"{source}, {figure.when}",
            }
        )
    return table
