"""Metrics: any two models compared on the test set, class by class."""

import streamlit as st

from dashboard import charts, tables
from dashboard.streamlit_ui.state import disagreement_gallery, lab, load_model, missing_notice, plot

st.title("Compare two models")
st.write(
    "Pick any two models: the teacher, the shipped students or a run of yours. Their per-class scores on the "
    "10,000 test digits are set side by side with the differences coloured, then come both confusion matrices, "
    "how well their confidence matches their accuracy, and the test digits they disagree on."
)
missing_notice()

choices = lab().models()
if len(choices) < 2:
    st.info("Comparing needs at least two models: the shipped checkpoints or finished runs from the Distill page.")
    st.stop()

by_key = {choice.key: choice for choice in choices}
keys = list(by_key)


def pick(label: str, key: str, default: int) -> str:
    wanted = st.session_state.get(key)
    index = keys.index(wanted) if wanted in keys else default
    return st.selectbox(
        label, keys, index=index, format_func=lambda k: by_key[k].label, key=f"{key}_select",
        on_change=lambda: st.session_state.update({key: st.session_state[f"{key}_select"]}),
    )  # fmt: skip


left, right = st.columns(2)
with left:
    a = by_key[pick("Model A", "metrics_a", 0)]
with right:
    b = by_key[pick("Model B", "metrics_b", 1)]
if a.key == b.key:
    st.info("Pick two different models to compare.")
    st.stop()

metrics_a, metrics_b = a.info.metrics.raw, b.info.metrics.raw
for column, metrics in ((left, a.info.metrics), (right, b.info.metrics)):
    with column:
        cells = st.columns(3)
        cells[0].metric("Accuracy", f"{metrics.accuracy:.2%}")
        cells[1].metric("Errors", f"{metrics.errors}")
        cells[2].metric("ECE", f"{metrics.ece:.4f}")

# Both models scored the same 10,000 digits: only those one gets right and the other wrong tell them apart
model_a, model_b = load_model(a), load_model(b)
if model_a is not None and model_b is not None:
    with st.spinner("Comparing them digit by digit…"):
        test = lab().mcnemar(a, b)
    st.markdown(test.describe("A", "B") + ".")
    st.caption(
        "McNemar's exact test: if A and B were equally good, each test digit that only one of them gets right "
        "would be A's or B's as by a fair coin. Under 0.05, a fair coin would split them this lopsidedly less than "
        "one time in twenty; above it, the gap in accuracy may be the luck of these 10,000 digits."
    )

st.subheader("Per-class precision, recall and F1")
st.caption("Δ = B − A: green where B is better, red where it is worse.")
comparison = tables.per_class_comparison(metrics_a, metrics_b)
st.dataframe(
    tables.highlight_differences(comparison),
    width="stretch",
    height=tables.full_height(comparison),
    column_config={"_index": st.column_config.Column(width=80)},
)

st.subheader("Confusion matrices")
for column, choice, metrics in zip(st.columns(2), (a, b), (metrics_a, metrics_b), strict=True):
    with column:
        plot(charts.confusion(metrics["confusion"], choice.label), key=f"metrics_confusion_{choice.key}")
st.caption("Rows are the true digit, columns the prediction; the colour scale is set by the errors.")

st.subheader("Calibration")
plot(
    charts.reliability({f"A: {a.label}": metrics_a["calibration"], f"B: {b.label}": metrics_b["calibration"]}),
    key="metrics_reliability",
)
st.caption(
    "Each point is a bin of test digits with similar confidence: on the diagonal, a model that says 90 % is right "
    "90 % of the time. ECE is the average gap, weighted by how many digits fall in each bin."
)

st.subheader("Where they disagree or are both wrong")
if model_a is not None and model_b is not None:
    found = disagreement_gallery(a, b)
    if not found:
        st.success("They agree on every test digit and are never both wrong.")
    else:
        st.image(
            [lab().test_digit(row["index"])[0] for row in found],
            caption=[f"#{r['index']} true {r['label']} · A {r['prediction_a']} · B {r['prediction_b']}" for r in found],
            width=84,
        )
        st.caption(f"The first {len(found)} such test digits, in test-set order.")
