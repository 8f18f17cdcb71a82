"""The Gradio app's Distill tab: launch a capped run on the lab's queue, watch it, compare the result.

The lab's run worker trains (kd.lab.runs); no event here waits for a run. Launching only queues
the run (`Lab.launch`, with the visitor's caps) and returns its status at once; a 1 s gr.Timer,
active only while the visitor has a run waiting or training, polls `Lab.run_of(visitor)` for
the status sentence, the live curves and, once it is done, the result card. The visitor's run is
found again after a page reload. These events skip Gradio's shared queue (queue=False), so one
session firing them in a loop cannot fill it and predictions keep their room; an API client
that joins the queue anyway shares a pool of two with them.
"""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from dashboard import charts
from dashboard.gradio_ui.outputs import plot
from dashboard.gradio_ui.state import choices, lab, visitor
from kd.lab import widgets
from kd.lab.card import F1_TITLE, ResultCard
from kd.lab.omitted_view import OmittedSummary
from kd.lab.records import DONE, Run
from kd.lab.texts import ALPHA_SWITCH, ALPHA_SWITCH_LABEL, DISTILL_INTRO

POLL_SECONDS = 1.0
# after Launch, the status and live curves come into view: below the settings they would sit past the first screen
SHOW_STATUS = "() => document.getElementById('run-status')?.scrollIntoView({block: 'start', behavior: 'smooth'})"
# each returns within milliseconds; outside the queue, and a pool of their own for API clients that queue them
RUN_EVENTS = dict(queue=False, concurrency_id="runs", concurrency_limit=2, show_progress="hidden")


def live_curves(run: Run) -> gr.Plot:
    """Training loss per step and validation accuracy per epoch so far (hidden before the first step)."""
    rows = list(run.progress)  # the worker appends; a copy is a consistent view
    return plot(charts.live_curves(rows) if rows else None)


def card_markdown(card: ResultCard) -> str:
    """The card's headline, its table (ResultCard.table, as the Streamlit lab's) and its scratch twin, in Markdown."""
    rows = card.table()
    columns = list(next(iter(rows.values())))
    lines = [f"**{card.headline}**", "", f"| model | {' | '.join(columns)} |", "|:--|" + "--:|" * len(columns)]
    lines += [f"| {name} | {' | '.join(cells.values())} |" for name, cells in rows.items()]
    lines += ["", card.twin_note] if card.twin_note is not None else []
    lines += omitted_markdown(card.omitted) if card.omitted is not None else []
    return "\n".join([*lines, "", f"Reproduce it from the command line: `{card.command}`"])


def alpha_meaning(mix: str) -> tuple:
    """The alpha slider's label and the sentence under it: with mixing, alpha is a switch (kd.lab.texts)."""
    if mix == "none":
        return gr.Slider(label="Alpha"), widgets.ALPHA_MEANING
    return gr.Slider(label=ALPHA_SWITCH_LABEL), ALPHA_SWITCH


def omitted_markdown(part: OmittedSummary) -> list[str]:
    """The digits the run never saw: its recall of each before and after the offset, its twin's and the teacher's."""
    rows = part.table()
    columns = list(next(iter(rows.values())))
    lines = ["", f"**Left out of training: {', '.join(map(str, part.digits))}**", "", part.headline, ""]
    lines += [f"| model | {' | '.join(columns)} |", "|:--|" + "--:|" * len(columns)]
    return lines + [f"| {name} | {' | '.join(cells.values())} |" for name, cells in rows.items()]


def offset_outputs(run_id: str | None, offset: float | None = None) -> tuple:
    """The offset control of a run with digits left out: (slider, caption, recall bars, curve), all hidden for a
    run without; `offset` None: the one chosen on validation."""
    view = lab().omitted_view(run_id, offset) if run_id is not None else None
    if view is None:
        return gr.Slider(visible=False), gr.Markdown(visible=False), plot(None), plot(None)
    span, curve = view.slider, view.curve
    slider = gr.Slider(span.low, span.high, view.offset, step=span.step, visible=True) if offset is None else gr.skip()
    bars = charts.omitted_recall(view.per_class_as_trained, view.per_class_at_offset, view.digits, view.offset)
    line = charts.offset_curve(curve.offsets, curve.errors, curve.recall, view.chosen, view.offset)
    return slider, gr.Markdown(view.caption, visible=True), plot(bars), plot(line)


PRESET_WIDGETS = ("temperature", "alpha", "epochs", "images", "mix", "omit_digits")  # Lab.run_settings' names


def fill_preset() -> list:
    """The "Hinton's missing 3" button: the preset's values for the widgets it sets, in PRESET_WIDGETS' order."""
    values = widgets.missing_three(lab().limits).values
    return [values[name] for name in PRESET_WIDGETS]


def move_offset(offset: float, request: gr.Request) -> tuple:
    """The visitor moved the offset of their finished run: its recall and test errors with it."""
    run = lab().run_of(visitor(request))
    try:
        return offset_outputs(run.id if run is not None and run.status == DONE else None, offset)[1:]
    except ValueError as exc:  # an API client's offset out of range or not a number
        raise gr.Error(str(exc), print_exception=False) from None


def launch(
    temperature: float, alpha: float, epochs: float, images: float, seed: float, mix: str, teacher: str,
    request: gr.Request, omit_digits: list[str] | None = None,
) -> str:  # fmt: skip
    """Queue the visitor's run and say where it stands; gr.Error with the reason if it is refused. `omit_digits`
    comes after the request (Gradio passes it wherever it stands), so API clients may leave it out."""
    try:  # the API takes anything: the lab refuses bad values, unknown teachers and values over the caps in words
        settings = lab().run_settings(temperature, alpha, epochs, images, seed, mix, omit_digits)
        run = lab().launch(visitor(request), settings, teacher)
    except ValueError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    return lab().run_status(run)


def watch(request: gr.Request) -> tuple:
    """The visitor's latest run as the tab shows it: (status, curves, card, F1 change, 4 selectors, the offset
    control's four (offset_outputs), timer).

    The selectors (the Draw tab's student, the Metrics tab's three) get the finished run once it is
    done; the timer stays active while the run waits or trains, and while its scratch twin trains.
    """
    run = lab().run_of(visitor(request))
    keep = (gr.skip(),) * 4
    if run is None:
        return "", plot(None), "", plot(None), *keep, *offset_outputs(None), gr.Timer(active=False)
    card = lab().result_card(run) if run.status == DONE else None
    if card is None:  # waiting, training, failed or cancelled
        shown = lab().run_status(run), live_curves(run), "", plot(None)
        return *shown, *keep, *offset_outputs(None), gr.Timer(active=run.active)
    figure = charts.f1_change(card.f1_changes, F1_TITLE) if card.f1_changes is not None else None
    students, everything = choices(teacher=False), choices()
    # the Draw tab's student and the Metrics tab's model B show the new run, not what was picked before it
    selectors = (
        gr.Dropdown(choices=students, value=run.id), gr.Dropdown(choices=everything),
        gr.Dropdown(choices=everything, value=run.id), gr.Dropdown(choices=everything),
    )  # fmt: skip
    shown = lab().run_status(run), live_curves(run), card_markdown(card), plot(figure)
    return *shown, *selectors, *offset_outputs(run.id), gr.Timer(active=run.twin_pending)  # the twin's comparison next


def cancel(request: gr.Request) -> str:
    """Cancel the visitor's own run (nobody else's)."""
    me = visitor(request)
    run = lab().run_of(me)
    if run is None or not lab().cancel(me, run.id):
        return "You have no run waiting or training (a run that is being saved can no longer be cancelled)."
    if run.active:  # training: the worker stops it at its next step
        return "Stopping the run at its next step; nothing will be saved."
    return lab().run_status(run)


def build(demo: gr.Blocks) -> Callable[[list[gr.Dropdown]], None]:
    """The tab's widgets; returns `connect`, which wires its events once every model selector exists.

    `connect(selectors)` takes the selectors that get a finished run (the Draw tab's student first),
    some of them built after this tab.
    """
    limits = lab().limits
    gr.Markdown(DISTILL_INTRO)
    with gr.Row():
        with gr.Column():
            temperature = slider(widgets.TEMPERATURE, "Temperature T")
            alpha = slider(widgets.ALPHA, "Alpha")
            meaning = gr.Markdown(widgets.ALPHA_MEANING, elem_id="alpha-formula")
        with gr.Column():
            epochs = slider(widgets.epochs(limits), "Epochs")
            info = "A class-balanced random subset of the 50,000 training images, chosen by the seed."
            images = slider(widgets.images(limits), "Training images", info=info)
            seed = gr.Number(
                widgets.SEED.default, label="Seed", precision=0, minimum=widgets.SEED.low, maximum=widgets.SEED.high
            )
    with gr.Row():
        teachers = lab().teacher_choices()
        # asked only where there is a choice; "hidden" keeps it in the page, so its value is still sent
        teacher = radio(teachers, "Teacher", visible=len(teachers.labels) > 1 or "hidden")
        mix = radio(widgets.MIXING, "Mixing", info=widgets.MIXING_HELP)
    with gr.Row():
        omit = gr.CheckboxGroup(list(widgets.DIGITS), value=[], label="Leave out digits", info=widgets.OMIT_HELP)
        preset = widgets.missing_three(limits)
        fill = gr.Button(preset.label, elem_id="preset-missing-three")
    gr.Markdown(preset.help)
    with gr.Row():
        start = gr.Button("Launch run", variant="primary")
        stop = gr.Button("Cancel run")
    status = gr.Markdown(elem_id="run-status", label="status")  # the /distill API's output, by name
    curves = gr.Plot(show_label=False, visible=False)
    card = gr.Markdown(elem_id="result-card")
    f1 = gr.Plot(show_label=False, visible=False)
    offset = gr.Slider(label="Offset on the logits of the digits left out", visible=False, elem_id="offset")
    offset_note = gr.Markdown(visible=False, elem_id="offset-note")
    offset_bars, offset_curve = gr.Plot(show_label=False, visible=False), gr.Plot(show_label=False, visible=False)
    timer = gr.Timer(POLL_SECONDS, active=False)
    filled = [temperature, alpha, epochs, images, mix, omit]  # in PRESET_WIDGETS' order
    fill.click(fill_preset, None, filled, api_visibility="private", **RUN_EVENTS)

    def connect(selectors: list[gr.Dropdown]) -> None:
        moved = [offset_note, offset_bars, offset_curve]
        shown = [status, curves, card, f1, *selectors, offset, *moved, timer]
        offset.release(move_offset, offset, moved, api_visibility="private", **RUN_EVENTS)
        settings = [temperature, alpha, epochs, images, seed, mix, teacher, omit]
        start.click(launch, settings, status, api_name="distill", **RUN_EVENTS).success(
            watch, None, shown, api_visibility="private", **RUN_EVENTS
        ).then(None, None, None, js=SHOW_STATUS, api_visibility="private", queue=False)
        mix.change(alpha_meaning, mix, [alpha, meaning], api_visibility="private", queue=False, show_progress="hidden")
        # "run": the caller's own run, for API clients that launched one with /distill (not in the API docs)
        timer.tick(watch, None, shown, api_name="run", api_visibility="undocumented", **RUN_EVENTS)
        stop.click(cancel, None, status, api_visibility="private", **RUN_EVENTS)
        demo.load(watch, None, shown, api_visibility="private", **RUN_EVENTS)  # a reload finds the visitor's run

    return connect


def slider(values: widgets.Range, label: str, **kwargs) -> gr.Slider:
    return gr.Slider(values.low, values.high, values.default, step=values.step, label=label, **kwargs)


def radio(choices: widgets.Choices, label: str, **kwargs) -> gr.Radio:
    """The lab's choices as radio buttons: visitors see the labels, and only the keys come back."""
    options = [(text, key) for key, text in choices.labels.items()]
    return gr.Radio(options, value=choices.default, label=label, **kwargs)
