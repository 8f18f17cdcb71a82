"""The Gradio app's Metrics and latency tab: any two models class by class, and how fast models answer.

The per-class numbers are the checkpoints' test-set metrics (kd.evaluate, stored at training
time, typed by kd.metadata). Latency is the lab's board (kd.lab.measure): the Measure button
asks `Lab.measure` (at most one measurement per interval for the whole server, queued behind any
run, PyTorch and ONNX Runtime), and every visitor sees the latest figures of each model with
when and where they were taken; a 2 s timer polls the board while a measurement is on its way.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from dashboard import charts, tables
from dashboard.gradio_ui.outputs import plot, table
from dashboard.gradio_ui.state import choices, entries, lab
from kd.infer.bench import RUNTIMES
from kd.lab.latency_views import BATCH_SIZES

POLL_SECONDS = 2.0
NOT_MEASURED = "Not measured on this server yet: {}. Press **Measure** to time them."


def compare(key_a: str | None, key_b: str | None) -> tuple:
    """A headline, the per-class comparison (the Streamlit lab's, B - A beside each) and both confusion matrices."""
    found = entries([key_a, key_b])
    if len(found) < 2:
        return "Pick two models.", table(None), plot(None), plot(None)
    a, b = found
    if a.key == b.key:
        return "Pick two different models to compare.", table(None), plot(None), plot(None)
    headline = " · ".join(
        f"**{side}: {entry.label}**: accuracy {entry.info.metrics.accuracy:.2%}, {entry.info.metrics.errors} errors, "
        f"ECE {entry.info.metrics.ece:.4f}"
        for side, entry in (("A", a), ("B", b))
    )
    return (
        headline,
        table(tables.per_class_comparison(a.info.metrics.raw, b.info.metrics.raw).round(4).reset_index()),
        plot(charts.confusion(a.info.metrics.raw["confusion"], f"A: {a.label}")),
        plot(charts.confusion(b.info.metrics.raw["confusion"], f"B: {b.label}")),
    )


def board(keys: list[str] | None, notice: str | None = None) -> tuple:
    """The latest figures of these models: (note, latency chart, throughput chart, table, timer)."""
    chosen = entries(keys)
    if not chosen:
        return "Pick at least one model to time.", plot(None), plot(None), table(None), gr.Timer(active=False)
    board = lab().latency_view(chosen)
    lines = [notice] if notice else []
    if board.measuring:
        lines.append("Measuring on this server (after any run that is training); the figures show here when done.")
    if board.unmeasured and not board.measuring:
        lines.append(NOT_MEASURED.format(", ".join(board.unmeasured)))
    lines += board.notes()  # where and when, the reference's and this server's, and whether it was busy
    timer = gr.Timer(active=board.measuring)
    if not board.figures:
        return "\n\n".join(lines), plot(None), plot(None), table(None), timer
    rows = board.rows
    speedup = board.speedup()
    lines += [speedup] if speedup is not None else []
    lines.append(f"Timed with {board.threads} CPU threads after a few untimed warm-up passes.")
    return (
        "\n\n".join(lines),
        plot(charts.latency_lines(rows, "p50_ms", "ms per batch (p50, bar up to p95)", p95_bars=True)),
        plot(charts.latency_lines(rows, "throughput", "images per second")),
        table(pd.DataFrame(board.summary())),
        timer,
    )


def measure(keys: list[str] | None) -> tuple:
    """Ask the lab to time these models (it may say no: once per interval for the whole server); then the board."""
    chosen = entries(keys)
    refused = lab().measure(chosen, BATCH_SIZES, tuple(RUNTIMES)) if chosen else None
    return board(keys, refused)


def build(tab: gr.Tab) -> list[gr.Dropdown]:
    """The tab, its figures made when it is opened (not on every page load); returns its model selectors so
    that new runs can be added to them."""
    everything = choices()
    keys = [key for _, key in everything]
    gr.Markdown("### Per-class F1 on the 10,000 test digits")
    with gr.Row():
        model_a = gr.Dropdown(everything, value=keys[0] if keys else None, label="Model A")
        model_b = gr.Dropdown(everything, value=keys[1] if len(keys) > 1 else None, label="Model B")
    headline = gr.Markdown(elem_id="metrics-headline")
    gr.Markdown("Δ = B − A: positive where B is better.")
    comparison = gr.Dataframe(interactive=False, visible=False, elem_id="metrics-table")
    with gr.Row():
        confusion_a, confusion_b = gr.Plot(show_label=False, visible=False), gr.Plot(show_label=False, visible=False)
    shown = [headline, comparison, confusion_a, confusion_b]
    for trigger in (tab.select, model_a.change, model_b.change):
        trigger(compare, [model_a, model_b], shown, api_visibility="private", queue=False)

    first, last = BATCH_SIZES[0], BATCH_SIZES[-1]
    gr.Markdown(f"### Latency on this server, batch sizes {first} to {last}, PyTorch and ONNX Runtime")
    most = lab().limits.max_measured_models  # one measurement times at most this many
    timed = gr.Dropdown(
        everything, value=keys[:2], multiselect=True, max_choices=most, label=f"Models to time (up to {most})"
    )
    press = gr.Button("Measure")
    note = gr.Markdown(elem_id="latency-note")
    with gr.Row():
        latency_ms, throughput = gr.Plot(show_label=False, visible=False), gr.Plot(show_label=False, visible=False)
    summary = gr.Dataframe(interactive=False, visible=False, elem_id="latency-table")
    poll = gr.Timer(POLL_SECONDS, active=False)
    figures = [note, latency_ms, throughput, summary, poll]
    # queue=False: each returns at once (the measurement itself is queued on the lab's worker)
    press.click(measure, timed, figures, api_name="measure", api_visibility="undocumented", queue=False)
    for trigger in (tab.select, timed.change, poll.tick):
        trigger(board, timed, figures, api_visibility="private", show_progress="hidden", queue=False)
    return [model_a, model_b, timed]
