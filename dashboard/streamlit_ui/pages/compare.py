"""Compare runs: two or more finished models' training curves overlaid, and their settings side by side."""

import streamlit as st

from dashboard import charts
from dashboard.streamlit_ui.state import lab, missing_notice, plot
from kd.lab.compare import first_picks
from kd.lab.texts import COMPARE_INTRO, COMPARE_LOSS_NOTE

st.title("Compare runs")
st.write(COMPARE_INTRO)
missing_notice()

choices = {choice.key: choice for choice in lab().comparable_models()}
picked = st.multiselect(
    "Models", list(choices), default=first_picks(list(choices.values())),
    format_func=lambda key: choices[key].label, key="compare_models",
)  # fmt: skip
try:
    comparison = lab().compare_runs(picked)
except ValueError as exc:
    st.info(str(exc))
    st.stop()

left, right = st.columns(2)
with left:
    st.markdown("**Validation accuracy**")
    plot(charts.accuracy_curves(comparison.histories), key="compare_accuracy")
with right:
    st.markdown("**Training loss**")
    plot(charts.loss_curves(comparison.histories), key="compare_loss")
st.caption(COMPARE_LOSS_NOTE)
st.subheader("Settings")
st.table(comparison.settings)
