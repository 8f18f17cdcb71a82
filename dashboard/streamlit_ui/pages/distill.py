"""Distill: launch short distillation runs, watch them train, compare and keep the results."""

import streamlit as st

from dashboard import charts, tables
from dashboard.streamlit_ui.notices import guarded
from dashboard.streamlit_ui.state import lab, missing_notice, plot, visitor
from kd.lab import widgets
from kd.lab.card import F1_TITLE, ResultCard
from kd.lab.omitted_view import OmittedSummary
from kd.lab.records import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Run
from kd.lab.settings import shown_command
from kd.lab.texts import ALPHA_SWITCH, ALPHA_SWITCH_LABEL, DISTILL_INTRO
from kd.train import TrainConfig

st.title("Distill a student")
st.write(DISTILL_INTRO)
missing_notice()
top = st.container()  # the visitor's run while it waits or trains: on the first screen after Launch, not below the form


def slider(label: str, span: widgets.Range, key: str, kind: type = float, **options):
    """A lab range as a slider bound to the URL. Every widget here is given the same default on every rerun, also
    where a preset or a link has put its value in the session state: a default that changes between reruns makes a
    new widget of it, which the browser could show empty (a radio) or at its minimum (a slider)."""
    low, high, default, step = (kind(value) for value in (span.low, span.high, span.default, span.step))
    return st.slider(label, low, high, default, step, key=key, bind="query-params", **options)


def choice(label: str, choices: widgets.Choices, key: str, **options) -> str:
    """One of the lab's choices as a row of radio buttons, bound to the URL like the sliders.

    Streamlit reads a bound radio's label from the URL ("mix=CutMix"); a link may name the choice by its key
    ("mix=cutmix", as the lab and the Gradio app name it), which the widget would drop: it starts on that choice.
    """
    keys = list(choices.labels)
    linked = st.query_params.get(key)
    if linked in choices.labels and key not in st.session_state:
        st.session_state[key] = linked
    return st.radio(
        label, keys, keys.index(choices.default), format_func=choices.labels.get, key=key,
        horizontal=True, bind="query-params", **options,
    )  # fmt: skip


def teacher_and_mixing() -> tuple[str, str]:
    """The teacher (asked only where the server has more than one) and the mixing of the run's images."""
    teachers = lab().teacher_choices()
    teacher = choice("Teacher", teachers, "teacher") if len(teachers.labels) > 1 else teachers.default
    return teacher, choice("Mixing", widgets.MIXING, "mix", help=widgets.MIXING_HELP)


def apply(preset: widgets.Preset) -> None:
    """A preset's values into the widgets (each keyed by the name Lab.run_settings gives it), before they are drawn."""
    st.session_state.update(preset.values)


def settings_form() -> tuple[TrainConfig | None, str]:
    """The run settings, checked by the lab, and the teacher's key; each widget is bound to the URL, so a link
    reproduces them. The teacher and the mixing come first: with mixing, alpha is relabelled as the switch it is."""
    preset = widgets.missing_three(lab().limits)
    st.button(preset.label, help=preset.help, on_click=apply, args=(preset,))
    teacher, mix = teacher_and_mixing()
    mixed = mix != "none"
    left, right = st.columns(2)
    with left:
        temperature = slider(
            "Temperature T", widgets.TEMPERATURE, "temperature",
            help="Both models' logits are divided by T before the soft-target term compares them.",
        )  # fmt: skip
        alpha = slider(ALPHA_SWITCH_LABEL if mixed else "Alpha", widgets.ALPHA, "alpha")
        st.caption(ALPHA_SWITCH if mixed else widgets.ALPHA_MEANING)
    with right:
        epochs = slider("Epochs", widgets.epochs(lab().limits), "epochs", int)
        images = slider(
            "Training images", widgets.images(lab().limits), "images", int,
            help="A class-balanced random subset of the 50,000 training images (the last 10,000 validate), "
            "chosen by the seed: the same for the run and its scratch twin.",
        )  # fmt: skip
        span = widgets.SEED
        seed = st.number_input("Seed", span.low, span.high, span.default, key="seed", bind="query-params")
    omit = st.pills(
        "Leave out digits", widgets.DIGITS, selection_mode="multi", default=[],
        key="omit_digits", help=widgets.OMIT_HELP, bind="query-params",
    )  # fmt: skip
    try:
        return lab().run_settings(temperature, alpha, epochs, images, seed, mix, omit), teacher
    except ValueError as exc:
        st.error(str(exc))
        return None, teacher


settings, teacher = settings_form()
refusal = lab().check_teacher(teacher)
if st.button("Launch run", type="primary", disabled=refusal is not None or settings is None):
    try:
        lab().launch(visitor(), settings, teacher)
    except ValueError as exc:
        st.error(str(exc))
if refusal is not None:
    st.warning(refusal)


def progress_view(run: Run) -> None:
    status = lab().run_status(run)
    if run.status == QUEUED:
        st.info(status)
    elif run.status == RUNNING:
        last = run.latest()
        st.progress(last.step / last.total_steps if last is not None else 0.0, text=status)
        if run.progress:
            plot(charts.live_curves(list(run.progress)), key="distill_live")
    if run.active and st.button("Cancel run", key="distill_cancel"):
        lab().cancel(visitor(), run.id)
        st.rerun()


def live_run() -> None:
    """Polled every second while this visitor's run is queued or training; a full rerun once it ends."""
    run = lab().run_of(visitor())
    if run is None:
        return
    if not run.active:
        st.rerun()  # the result card and the runs table live outside this fragment
    progress_view(run)


run = lab().run_of(visitor())  # the visitor's run, across reloads and tabs
with top:
    if run is not None and run.active:
        st.subheader("Your run")
        st.fragment(guarded(live_run), run_every=1.0)()
    elif run is not None and run.status == FAILED:
        st.error(lab().run_status(run))  # the lab's sentences, the Gradio app's too
    elif run is not None and run.status == CANCELLED:
        st.info(lab().run_status(run))

others = lab().queue_state().others_note(run.id if run is not None else None)
if others is not None:
    st.caption(others)


def result_card(card: ResultCard) -> None:
    mine = card.rows[0].metrics
    columns = st.columns(4)
    gain = f"{card.gain_points:+.2f} pts vs {card.gain_against}" if card.gain_points is not None else None
    columns[0].metric("Test accuracy", f"{mine.accuracy:.2%}", gain)
    agreement = f"{mine.agreement:.2%}" if mine.agreement is not None else "—"
    columns[1].metric("Agreement with the teacher", agreement)
    columns[2].metric("ECE (calibration error)", f"{mine.ece:.4f}")
    columns[3].metric("Training time", f"{card.train_seconds:.0f} s")
    st.table(card.table())
    if card.f1_changes is not None:
        plot(charts.f1_change(card.f1_changes, F1_TITLE), key="distill_f1")
        st.caption(card.twin_note)


def omitted_part(run_id: str, part: OmittedSummary) -> None:
    """The digits the run never saw: recall before and after the offset, and a control to move the offset."""
    st.markdown(f"**Left out of training: {', '.join(map(str, part.digits))}**")
    st.write(part.headline)
    st.table(part.table())
    span = lab().omitted_view(run_id).slider
    offset = st.slider(
        "Offset on their logits", span.low, span.high, span.default, span.step, key=f"offset_{run_id}",
        help="Added to the logits of the digits left out. Move it to see their recall and the test errors change; "
        "the dashed line is the offset chosen on the validation images.",
    )  # fmt: skip
    view = lab().omitted_view(run_id, offset)
    bars = charts.omitted_recall(view.per_class_as_trained, view.per_class_at_offset, view.digits, offset)
    plot(bars, key="distill_omitted_bars")
    curve = view.curve
    plot(charts.offset_curve(curve.offsets, curve.errors, curve.recall, view.chosen, offset), key="distill_offset")
    st.caption(view.caption)


def twin_watch() -> None:
    """Polled every second while the run's scratch twin trains; a full rerun once the comparison is in."""
    run = lab().run_of(visitor())
    if run is None or not run.twin_pending:
        st.rerun()


card = lab().result_card(run) if run is not None and run.status == DONE else None
if card is not None:
    st.subheader("Result")
    st.success(card.headline)
    if card.twin_pending:
        st.fragment(guarded(twin_watch), run_every=1.0)()
    result_card(card)
    if card.omitted is not None:
        guarded(omitted_part)(card.run_id, card.omitted)

st.subheader("Finished runs")
runs = lab().finished_runs()
if not runs:
    st.info("No finished runs yet: launch one above.")
else:
    # a static table wraps its cells to the page's width: a 13-column grid hid its last columns at 1366 px
    formats = {
        "accuracy": "{:.2%}",
        "agreement": "{:.2%}",
        "ECE": "{:.4f}",
        "T": "{:g}",
        "alpha": "{:g}",
        "time (s)": "{:.1f}",
    }
    st.table(tables.runs(runs).style.format(formats, na_rep="—"), hide_index=True)
    labels = {choice.key: choice.label for choice in runs}
    if card is not None and st.session_state.get("distill_card_of") != card.run_id:
        st.session_state["distill_card_of"] = card.run_id
        st.session_state["distill_chosen"] = card.run_id  # a run that just finished, not the one picked before it
    chosen = st.selectbox("Run", list(labels), format_func=labels.get, key="distill_chosen")
    choice = next(c for c in runs if c.key == chosen)
    draw, metrics, delete = st.columns(3)
    if draw.button("Open in Draw", width="stretch"):
        st.session_state["selected_student"] = choice.key
        # query_params={}: the default (None) tries to clear the URL and refuses while widgets are bound to it
        st.switch_page("streamlit_ui/pages/draw.py", query_params={})
    if metrics.button("Open in Metrics", width="stretch"):
        st.session_state["metrics_b"] = choice.key
        st.switch_page("streamlit_ui/pages/metrics.py", query_params={})
    mine = lab().may_delete(visitor(), choice.key)
    help_text = None if mine else "Only the visitor who launched a run can delete it."
    if delete.button("Delete", width="stretch", disabled=not mine, help=help_text):
        try:
            lab().delete(visitor(), choice.key)
        except ValueError as exc:
            st.error(str(exc))
        else:
            st.toast(f"Deleted {choice.key}")
            st.rerun()
    st.caption(f"Reproduce a run from the command line: `{shown_command(choice.info.command)}`")
    st.caption(
        f"This server keeps the {lab().limits.max_saved_runs} newest runs (oldest deleted first); "
        "each visitor can delete the runs they launched."
    )
