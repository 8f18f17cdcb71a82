"""Overview: the shipped teacher, distilled student and scratch student side by side (and an ensemble, if made)."""

import streamlit as st

from dashboard import charts, tables
from dashboard.streamlit_ui.state import lab, load_model, missing_notice, plot
from kd.lab.settings import ENSEMBLE

st.title("KD Lab: knowledge distillation on MNIST")
st.write(
    "A large **teacher** CNN was trained on MNIST; a small **student** learned from the teacher's softened "
    "outputs as well as the labels (knowledge distillation), and a **scratch** student of the same size learned "
    "from the labels alone. This page puts the three side by side, so the effect of "
    "distillation is measured here rather than claimed."
)
missing_notice()

teacher, student, scratch = (lab().shipped(name) for name in ("teacher", "student", "scratch"))
choices = lab().shipped_models()  # those three, and the ensemble of teachers where one was made
if not choices:
    st.stop()
ensemble = next((choice for choice in choices if choice.key == ENSEMBLE), None)
if ensemble is not None:
    st.caption(
        f"Also here: an {ensemble.label.lower()}, which answers with the mean of their logits. The Distill page "
        "can distil a student from it instead of the single teacher."
    )

if student is not None and scratch is not None:
    gain = student.info.metrics.accuracy - scratch.info.metrics.accuracy
    line = (
        f"On the 10,000 test digits the distilled student scores **{student.info.metrics.accuracy:.2%}** "
        f"against **{scratch.info.metrics.accuracy:.2%}** for the scratch student "
        f"({gain * 100:+.2f} points)"
    )
    if teacher is not None:
        ratio = (teacher.info.metrics.parameters or 0) / max(student.info.metrics.parameters or 1, 1)
        line += f"; the teacher scores **{teacher.info.metrics.accuracy:.2%}** with {ratio:.0f}× the parameters"
    keys = ("epochs", "limit", "augment", "seed")
    budgets = [{key: c.info.train_config.get(key) for key in keys} for c in (student, scratch)]
    if budgets[0] == budgets[1]:
        line += ". Both students had the same budget: epochs, training images, augmentation and seed"
    else:
        line += ". Note that the two students were trained with different budgets, so this is not a fair comparison"
    st.markdown(line + ".")
    if load_model(student) is not None and load_model(scratch) is not None:
        test = lab().mcnemar(student, scratch)
        st.caption(
            f"Digit by digit: {test.describe('distilled', 'scratch')}. McNemar's exact test asks whether the digits "
            "only one of the two students gets right split more lopsidedly than a fair coin would split them."
        )

st.subheader("Setup and results")
figures = lab().reference_figures(choices)  # the one measurement file every page quotes (`kd report`'s)
st.table(tables.setup(choices, {key: figure.p50_ms() for key, figure in figures.items()}))
if figures:
    sources = "; ".join(sorted({f"{figure.where}, {figure.when}" for figure in figures.values()}))
    unmeasured = [choice.label for choice in choices if choice.key not in figures]
    st.caption(
        "Latency: median time of one forward pass of a single image in PyTorch, BatchNorm folded in. "
        f"Measured on {sources}"
        + (f" (not {', '.join(unmeasured)}: “—”)" if unmeasured else "")
        + ". The Latency page measures again on this server, in both runtimes."
    )

st.subheader("Per-class precision, recall and F1 on the test set")
# two tables a row: four side by side leave each about 210 px at 1366 px, and hide their F1 column
cells = [cell for _ in range(0, len(choices), 2) for cell in st.columns(2)]
for column, choice in zip(cells, choices, strict=False):
    with column:
        st.markdown(f"**{choice.label}**")
        frame = tables.per_class(choice.info.metrics.raw)
        st.dataframe(
            frame.style.format(precision=3),
            width="stretch",
            height=tables.full_height(frame),
            column_config={"_index": st.column_config.Column(width=70)},
        )

st.subheader("Training curves")
# an ensemble trained nothing: its members' curves are in their own checkpoints
histories = {choice.label: list(choice.info.history) for choice in choices if choice.info.history}
plot(charts.accuracy_curves(histories), key="overview_curves")
st.caption(
    "Validation accuracy after each epoch (the last 10,000 training images, never trained on), from the history "
    "stored in each checkpoint; the test set is scored once, after training."
)
