"""The Gradio app's Metrics and latency tab: any two models class by class, and how fast models answer.

The numbers come from the checkpoints' test-set metrics (kd.evaluate, stored at training
time) and from kd.infer.bench on this server; the tables and figures are the Streamlit lab's own
(dashboard/tables.py, dashboard/charts.py).
"""

from __future__ import annotations

import functools

import gradio as gr
import pandas as pd

from dashboard import charts, tables
from dashboard.gradio_ui import state as models
from kd.infer.bench import benchmark

BATCH_SIZES = (1, 4, 16, 64, 256, 1024)


def compare(path_a: str | None, path_b: str | None):
    """A headline, the per-class comparison (B - A) and both confusion matrices."""
    a, b = models.by_path(path_a), models.by_path(path_b)
    if a is None or b is None:
        return "Pick two models.", None, None, None
    if a.path == b.path:
        return "Pick two different models to compare.", None, None, None
    headline = " · ".join(
        f"**{side}: {entry.label}**: accuracy {entry.metrics['accuracy']:.2%}, {entry.metrics['errors']} errors, "
        f"ECE {entry.metrics['ece']:.4f}"
        for side, entry in (("A", a), ("B", b))
    )
    frame = tables.per_class_comparison(a.metrics, b.metrics).round(4).reset_index()
    return (
        headline,
        frame,
        charts.confusion(a.metrics["confusion"], f"A: {a.label}"),
        charts.confusion(b.metrics["confusion"], f"B: {b.label}"),
    )


@functools.lru_cache(maxsize=16)
def _latency(paths: tuple[str, ...], shas: tuple[str, ...]) -> tuple[dict, ...]:
    entries = [models.by_path(path) for path in paths]
    loaded = {entry.label: models.load_model(entry) for entry in entries if entry is not None}
    return tuple(benchmark(loaded, batch_sizes=BATCH_SIZES, repeats=30, warmup=5))


def latency(paths: list[str] | None):
    """Latency and throughput charts and a summary table, measured once per set of models."""
    entries = [entry for entry in map(models.by_path, paths or []) if entry is not None]
    if not entries:
        return "Pick at least one model.", None, None, None
    rows = list(_latency(tuple(e.path for e in entries), tuple(e.sha for e in entries)))
    busy = models.run_manager().running() is not None
    summary = pd.DataFrame(
        {
            "model": row["model"],
            "batch size": row["batch_size"],
            "p50 (ms)": round(row["p50_ms"], 3),
            "p95 (ms)": round(row["p95_ms"], 3),
            "images/s": round(row["throughput"]),
        }
        for row in rows
    )
    note = f"Measured with {rows[0]['threads']} CPU threads after a few untimed warm-up passes."
    if busy:
        note += " A run is training on this server right now: it shares the CPUs, so timings are slower."
    return (
        note,
        charts.latency_lines(rows, "p50_ms", "ms per batch (p50, bar up to p95)", p95_bars=True),
        charts.latency_lines(rows, "throughput", "images per second"),
        summary,
    )


def build(demo: gr.Blocks) -> list[gr.Dropdown]:
    """The tab; returns its model selectors so that new runs can be added to them."""
    everything = models.choices()
    paths = [path for _, path in everything]
    gr.Markdown("### Per-class precision, recall and F1 on the 10,000 test digits")
    with gr.Row():
        model_a = gr.Dropdown(everything, value=paths[0] if paths else None, label="Model A")
        model_b = gr.Dropdown(everything, value=paths[1] if len(paths) > 1 else None, label="Model B")
    headline = gr.Markdown(elem_id="metrics-headline")
    gr.Markdown("Δ = B − A: positive where B is better.")
    comparison = gr.Dataframe(interactive=False, elem_id="metrics-table")
    with gr.Row():
        confusion_a, confusion_b = gr.Plot(show_label=False), gr.Plot(show_label=False)
    shown = [headline, comparison, confusion_a, confusion_b]
    for trigger in (demo.load, model_a.change, model_b.change):
        trigger(compare, [model_a, model_b], shown, api_visibility="private")

    gr.Markdown("### Latency on this server, batch sizes 1 to 1024 (BatchNorm folded in)")
    timed = gr.Dropdown(everything, value=paths[:2], multiselect=True, label="Models to time")
    measure = gr.Button("Measure")
    note = gr.Markdown()
    with gr.Row():
        latency_ms, throughput = gr.Plot(show_label=False), gr.Plot(show_label=False)
    summary = gr.Dataframe(interactive=False)
    measure.click(
        latency, timed, [note, latency_ms, throughput, summary], concurrency_limit=1, api_visibility="private"
    )
    return [model_a, model_b, timed]
