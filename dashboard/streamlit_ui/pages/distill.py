"""Distill: launch short distillation runs, watch them train, compare and keep the results."""

import dataclasses
import time

import streamlit as st

from dashboard import charts, tables
from dashboard.streamlit_ui.notices import guarded
from dashboard.streamlit_ui.state import finished_runs, missing_notice, run_manager, shipped, visitor
from kd.lab.runs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Run
from kd.recipes import DASHBOARD_RUN
from kd.train import TrainConfig

st.title("Distill a student")
st.write(
    "Pick a temperature and alpha, then train a small student from the teacher on a subset of MNIST. "
    "Runs are short and capped because everyone using this server shares its CPUs: one run trains at a time "
    "and the others wait their turn. Finished runs are saved, listed below, and can be opened in Draw and Metrics."
)
missing_notice()
manager = run_manager()


def settings_form() -> TrainConfig:
    """The run settings; each widget is bound to the URL, so a link reproduces them."""
    defaults = DASHBOARD_RUN  # one place for the defaults: kd.lab.records
    left, right = st.columns(2)
    with left:
        temperature = st.slider(
            "Temperature T", 0.5, 20.0, defaults.temperature, 0.5, key="temperature", bind="query-params",
            help="Both models' logits are divided by T before the soft-target term compares them.",
        )  # fmt: skip
        alpha = st.slider("Alpha", 0.0, 1.0, defaults.alpha, 0.05, key="alpha", bind="query-params")
        st.caption(
            "Alpha is the share of the soft-target term in the loss: "
            "**0 = labels only** (a scratch student), **1 = teacher only**. "
            "Loss = α·T²·KL(teacher_T ‖ student_T) + (1 − α)·cross-entropy."
        )
    with right:
        epochs = st.slider("Epochs", 1, manager.max_epochs, defaults.epochs, key="epochs", bind="query-params")
        limit = st.slider(
            "Training images", 100, manager.max_limit, min(defaults.limit, manager.max_limit), 100,
            key="images", bind="query-params", help="The first N images of the 60,000 MNIST training set.",
        )  # fmt: skip
        seed = st.number_input("Seed", 0, 9_999, defaults.seed, key="seed", bind="query-params")
    return dataclasses.replace(
        defaults, temperature=temperature, alpha=alpha, epochs=epochs, limit=limit, seed=int(seed)
    )


settings = settings_form()
if st.button("Launch run", type="primary", disabled=shipped("teacher") is None):
    try:
        run = manager.launch(settings, owner=visitor())
    except ValueError as exc:
        st.error(str(exc))
    else:
        st.session_state["distill_run"] = run.id
if shipped("teacher") is None:
    st.warning("A run needs the teacher checkpoint, which is not there.")


def progress_view(run: Run) -> None:
    if run.status == QUEUED:
        st.info(
            f"Queued, position {manager.position(run.id) or 1} among the runs: another run or one cell of a sweep "
            "is training; yours starts when the work before it is done (a sweep queues one cell at a time)."
        )
    elif run.status == RUNNING:
        last, remaining = run.latest(), run.remaining_seconds()
        if last is None:
            st.progress(0.0, text="Starting: loading the data and the teacher…")
        else:
            elapsed = time.time() - (run.started or time.time())
            text = f"Epoch {last.epoch} of {run.settings.epochs} · step {last.step} of {last.total_steps} · "
            text += f"{elapsed:.0f} s elapsed" + (f", about {remaining:.0f} s left" if remaining is not None else "")
            st.progress(last.step / last.total_steps, text=text)
            rows = list(run.progress)
            ends = [row for row in rows if row.test_accuracy is not None]
            st.plotly_chart(
                charts.live_curves(
                    [row.step for row in rows], [row.loss for row in rows],
                    [row.step for row in ends], [row.test_accuracy for row in ends],
                ),
                key="distill_live",
            )  # fmt: skip
    if run.active and st.button("Cancel run", key="distill_cancel"):
        manager.cancel(run.id)
        st.rerun()


def live_run() -> None:
    """Polled every second while this visitor's run is queued or training; a full rerun once it ends."""
    run = manager.get(st.session_state.get("distill_run", ""))
    if run is None:
        return
    if not run.active:
        st.rerun()  # the result card and the runs table live outside this fragment
    progress_view(run)


run = manager.get(st.session_state.get("distill_run", ""))
if run is not None and run.active:
    st.subheader("Your run")
    st.fragment(guarded(live_run), run_every=1.0)()
elif run is not None:
    if run.status == FAILED:
        st.error(f"The run failed: {run.error}")
    elif run.status == CANCELLED:
        st.info("The run was cancelled; nothing was saved.")

elsewhere = manager.running()
if elsewhere is not None and (run is None or elsewhere.id != run.id):
    st.caption(f"The server is training another run now; {len(manager.queued())} more waiting.")


def result_card(metadata: dict) -> None:
    metrics = metadata["metrics"]
    # a scratch student (alpha = 0) of this run's budget and seed, trained once and cached (kd.baselines)
    teacher, baseline = shipped("teacher"), metadata.get("baseline")
    columns = st.columns(4)
    accuracy_delta = None
    if baseline is not None:
        accuracy_delta = f"{(metrics['accuracy'] - baseline['accuracy']) * 100:+.2f} pts vs scratch"
    columns[0].metric("Test accuracy", f"{metrics['accuracy']:.2%}", accuracy_delta)
    columns[1].metric("Agreement with the teacher", f"{metrics.get('agreement', 0):.2%}")
    columns[2].metric("ECE (calibration error)", f"{metrics['ece']:.4f}")
    columns[3].metric("Training time", f"{metadata['train_seconds']:.0f} s")
    rows = {"this run": metrics}
    if teacher is not None:
        rows["teacher"] = teacher.metadata["metrics"]
    if baseline is not None:
        rows["scratch, same budget and seed"] = baseline
    st.table(
        {
            name: {
                "test accuracy": f"{m['accuracy']:.2%}",
                "agreement with the teacher": f"{m['agreement']:.2%}" if m.get("agreement") is not None else "—",
                "ECE": f"{m['ece']:.4f}",
                "macro F1": f"{m['macro']['f1']:.4f}",
            }
            for name, m in rows.items()
        }
    )
    if baseline is not None:
        deltas = [
            mine["f1"] - theirs["f1"] for mine, theirs in zip(metrics["per_class"], baseline["per_class"], strict=True)
        ]
        st.plotly_chart(charts.f1_change(deltas, "Per-class F1 change vs scratch (same budget)"), key="distill_f1")
        st.caption(
            "Scratch: the same student trained with alpha = 0 on the same images, epochs and seed "
            "(trained once per budget, then remembered)."
        )


if run is not None and run.status == DONE and run.metadata is not None and run.path.is_file():
    st.subheader("Result")
    st.success(f"Run {run.id} finished and was saved.")
    result_card(run.metadata)

st.subheader("Finished runs")
runs = finished_runs()
if not runs:
    st.info("No finished runs yet: launch one above.")
else:
    st.dataframe(
        tables.runs(runs),
        hide_index=True,
        column_config={
            "accuracy": st.column_config.NumberColumn(format="percent"),
            "agreement": st.column_config.NumberColumn(format="percent"),
            "ECE": st.column_config.NumberColumn(format="%.4f"),
        },
    )
    labels = {choice.key: choice.label for choice in runs}
    chosen = st.selectbox("Run", list(labels), format_func=labels.get, key="distill_chosen")
    choice = next(c for c in runs if c.key == chosen)
    draw, metrics, delete = st.columns(3)
    if draw.button("Open in Draw", width="stretch"):
        st.session_state["selected_student"] = choice.path
        # query_params={}: the default (None) tries to clear the URL and refuses while widgets are bound to it
        st.switch_page("streamlit_ui/pages/draw.py", query_params={})
    if metrics.button("Open in Metrics", width="stretch"):
        st.session_state["metrics_b"] = choice.path
        st.switch_page("streamlit_ui/pages/metrics.py", query_params={})
    mine = manager.may_delete(choice.key, visitor())
    help_text = None if mine else "Only the visitor who launched a run can delete it."
    if delete.button("Delete", width="stretch", disabled=not mine, help=help_text):
        try:
            manager.delete(choice.key, owner=visitor())
        except ValueError as exc:
            st.error(str(exc))
        else:
            st.toast(f"Deleted {choice.key}")
            st.rerun()
    st.caption(f"Reproduce a run from the command line: `{choice.metadata.get('command', '')}`")
    st.caption(
        f"This server keeps the {manager.limits.max_saved_runs} newest runs (oldest deleted first); "
        "each visitor can delete the runs they launched."
    )
