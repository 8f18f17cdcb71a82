"""The Gradio app's Distill tab: launch a capped run through kd.lab.runs' queue, watch it, compare the result.

Training happens in the RunManager's worker thread, never on Gradio's event loop; the launch
handler is a generator that only polls the run and streams its progress, so predictions keep
their own workers while a run trains. The launch event has a concurrency limit of 1 (one
run at a time; Gradio shows later visitors their place in its queue). Where a ZeroGPU
Space lends a GPU, `spaces.GPU` gives it to the whole launch handler and the run's
device="auto" picks it up; elsewhere the decorator does nothing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import gradio as gr
import spaces

from dashboard import charts
from dashboard.gradio_ui import state as models
from kd.lab.runs import CANCELLED, DONE, FAILED, QUEUED, Run
from kd.recipes import DASHBOARD_RUN
from kd.train import TrainConfig

POLL_SECONDS = 0.5
FORMULA = (
    "Alpha is the share of the soft-target term: **0 = labels only** (a scratch student), **1 = teacher only**. "
    "Loss = α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α)·cross-entropy(student, labels)."
)
_active: dict[str, str] = {}  # a visitor's session -> the run it launched, for its Cancel button


def progress_text(run: Run) -> str:
    if run.status == QUEUED:
        return f"Queued, position {models.run_manager().position(run.id) or 1}: another run is training."
    last, remaining = run.latest(), run.remaining_seconds()
    if last is None:
        return "Starting: loading the data and the teacher…"
    if last.step == last.total_steps:
        return "Trained: evaluating on the 10,000 test digits and saving…"
    elapsed = time.time() - (run.started or time.time())
    text = f"Epoch {last.epoch} of {run.settings.epochs} · step {last.step} of {last.total_steps} "
    text += f"({last.step / last.total_steps:.0%}) · {elapsed:.0f} s elapsed"
    return text + (f", about {remaining:.0f} s left" if remaining is not None else "")


def live_curves(run: Run):
    rows = list(run.progress)
    ends = [row for row in rows if row.test_accuracy is not None]
    return charts.live_curves(
        [row.step for row in rows], [row.loss for row in rows],
        [row.step for row in ends], [row.test_accuracy for row in ends],
    )  # fmt: skip


def result_card(run: Run) -> tuple[str, object]:
    """A table of this run against the teacher and a scratch student, and its per-class F1 change."""
    metadata = run.metadata or {}  # set by the worker before it marks the run done
    # a scratch student (alpha = 0) of this run's budget and seed, trained once and cached (kd.baselines)
    baseline = metadata.get("baseline")
    teacher = models.shipped("teacher")
    rows = {"this run": metadata["metrics"]}
    if teacher is not None:
        rows[teacher.label] = teacher.metrics
    if baseline is not None:
        rows["scratch, same budget and seed"] = baseline
    lines = ["| model | test accuracy | agreement with the teacher | ECE | macro F1 |", "|:--|--:|--:|--:|--:|"]
    for name, m in rows.items():
        agreement = f"{m['agreement']:.2%}" if m.get("agreement") is not None else "—"
        lines.append(f"| {name} | {m['accuracy']:.2%} | {agreement} | {m['ece']:.4f} | {m['macro']['f1']:.4f} |")
    card = f"**Run {run.id} finished and was saved** ({metadata.get('train_seconds', 0):.0f} s of training).\n\n"
    card += "\n".join(lines)
    figure = None
    if baseline is not None:
        pairs = zip(rows["this run"]["per_class"], baseline["per_class"], strict=True)
        deltas = [mine["f1"] - theirs["f1"] for mine, theirs in pairs]
        figure = charts.f1_change(deltas, "Per-class F1 change vs the scratch student of the same budget and seed")
    return card, figure


def refreshed(teacher: bool) -> gr.Dropdown:
    return gr.Dropdown(choices=models.choices(teacher))


@spaces.GPU(duration=120)
def watch(settings: TrainConfig, session: str) -> Iterator[tuple]:
    """Launch a run and stream (status, curves, card, F1 chart, student choices) until it ends."""
    manager = models.run_manager()
    try:
        run = manager.launch(settings)
    except ValueError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    _active[session] = run.id
    while run.active:
        curves = live_curves(run) if run.progress else None
        yield progress_text(run), curves, "", None, gr.skip()
        time.sleep(POLL_SECONDS)
    _active.pop(session, None)
    if run.status == DONE:
        card, figure = result_card(run)
        yield "Finished.", live_curves(run), card, figure, refreshed(teacher=False)
    elif run.status == FAILED:
        yield f"The run failed: {run.error}", gr.skip(), "", None, gr.skip()
    elif run.status == CANCELLED:
        yield "The run was cancelled; nothing was saved.", gr.skip(), "", None, gr.skip()


def launch(temperature: float, alpha: float, epochs: float, images: float, seed: float, request: gr.Request):
    try:  # the API takes any numbers: TrainConfig refuses bad ones (alpha 1.5) with a readable message
        settings = dataclasses.replace(
            DASHBOARD_RUN, temperature=float(temperature), alpha=float(alpha), epochs=int(epochs),
            limit=int(images), seed=int(seed),
        )  # fmt: skip
    except ValueError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    yield from watch(settings, request.session_hash or "")


def cancel(request: gr.Request) -> str:
    run_id = _active.pop(request.session_hash or "", None)
    if run_id is not None:
        models.run_manager().cancel(run_id)
    return "The run was cancelled; nothing was saved."


def build(student_selector: gr.Dropdown) -> None:
    manager = models.run_manager()
    gr.Markdown(
        "Pick a temperature and alpha, then train a small student from the teacher on a subset of MNIST. Runs are "
        "short and capped because everyone using this server shares its CPUs: one run trains at a time and the "
        "others wait their turn. Finished runs are saved and appear in the Draw and Metrics tabs."
    )
    with gr.Row():
        with gr.Column():
            temperature = gr.Slider(0.5, 20.0, DASHBOARD_RUN.temperature, step=0.5, label="Temperature T")
            alpha = gr.Slider(0.0, 1.0, DASHBOARD_RUN.alpha, step=0.05, label="Alpha")
            gr.Markdown(FORMULA, elem_id="alpha-formula")
        with gr.Column():
            epochs = gr.Slider(1, manager.max_epochs, DASHBOARD_RUN.epochs, step=1, label="Epochs")
            images = gr.Slider(
                100, manager.max_limit, min(DASHBOARD_RUN.limit, manager.max_limit), step=100, label="Training images",
                info="The first N images of the 60,000 MNIST training set.",
            )  # fmt: skip
            seed = gr.Number(DASHBOARD_RUN.seed, label="Seed", precision=0, minimum=0, maximum=9_999)
    with gr.Row():
        start = gr.Button("Launch run", variant="primary")
        stop = gr.Button("Cancel run")
    status = gr.Markdown(elem_id="run-status")
    curves = gr.Plot(show_label=False)
    card = gr.Markdown(elem_id="result-card")
    f1 = gr.Plot(show_label=False)
    launched = start.click(
        launch, [temperature, alpha, epochs, images, seed], [status, curves, card, f1, student_selector],
        concurrency_limit=1, concurrency_id="train", show_progress="minimal", show_progress_on=status,
        api_name="distill",
    )  # fmt: skip
    stop.click(cancel, None, status, cancels=[launched], queue=False, api_visibility="private")
