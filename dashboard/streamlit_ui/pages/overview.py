"""Overview: the shipped teacher, distilled student and scratch student side by side."""

import streamlit as st

from dashboard import charts, tables
from dashboard.streamlit_ui.state import latency, missing_notice, shipped

st.title("KD Lab: knowledge distillation on MNIST")
st.write(
    "A large **teacher** CNN was trained on MNIST; a small **student** learned from the teacher's softened "
    "outputs as well as the labels (knowledge distillation), and a **scratch** student of the same size learned "
    "from the labels alone. This page puts the three side by side, so the effect of "
    "distillation is measured here rather than claimed."
)
missing_notice()

teacher, student, scratch = (shipped(name) for name in ("teacher", "student", "scratch"))
choices = [choice for choice in (teacher, student, scratch) if choice is not None]
if not choices:
    st.stop()

if student is not None and scratch is not None:
    gain = student.metadata["metrics"]["accuracy"] - scratch.metadata["metrics"]["accuracy"]
    line = (
        f"On the 10,000 test digits the distilled student scores **{student.metadata['metrics']['accuracy']:.2%}** "
        f"against **{scratch.metadata['metrics']['accuracy']:.2%}** for the scratch student "
        f"({gain * 100:+.2f} points)"
    )
    if teacher is not None:
        ratio = teacher.metadata["metrics"]["parameters"] / max(student.metadata["metrics"]["parameters"], 1)
        accuracy = teacher.metadata["metrics"]["accuracy"]
        line += f"; the teacher scores **{accuracy:.2%}** with {ratio:.0f}× the parameters"
    keys = ("epochs", "limit", "augment", "seed")
    budgets = [{key: c.metadata.get("train_config", {}).get(key) for key in keys} for c in (student, scratch)]
    if budgets[0] == budgets[1]:
        line += ". Both students had the same budget: epochs, training images, augmentation and seed"
    else:
        line += ". Note that the two students were trained with different budgets, so this is not a fair comparison"
    st.markdown(line + ".")

st.subheader("Setup and results")
setup_table = st.empty()  # shown at once; the latency row is filled in at the end of the page
setup_table.table(tables.setup(choices, {}))
st.caption("Latency: median time of one forward pass of a single image on this server, BatchNorm folded in.")

st.subheader("Per-class precision, recall and F1 on the test set")
for column, choice in zip(st.columns(len(choices)), choices, strict=True):
    with column:
        st.markdown(f"**{choice.label}**")
        frame = tables.per_class(choice.metadata["metrics"])
        st.dataframe(
            frame.style.format(precision=3),
            width="stretch",
            height=tables.full_height(frame),
            column_config={"_index": st.column_config.Column(width=70)},
        )

st.subheader("Training curves")
histories = {choice.label: choice.metadata.get("history", []) for choice in choices}
st.plotly_chart(charts.accuracy_curves(histories), key="overview_curves")
st.caption("Test accuracy after each epoch, from the history stored in each checkpoint.")

rows = latency(choices, batch_sizes=(1,), repeats=30)  # measured once per server, then cached
latency_ms = {choice.path: row["p50_ms"] for choice, row in zip(choices, rows, strict=True)}
setup_table.table(tables.setup(choices, latency_ms))
