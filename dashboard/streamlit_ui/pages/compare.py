"""Compare runs: two or more finished models' training curves overlaid, and their settings side by side."""

import streamlit as st

from dashboard import charts
from dashboard.streamlit_ui.state import lab, missing_notice, plot
from kd.lab.texts import COMPARE_INTRO, COMPARE_LOSS_NOTE

st.title("Compare runs")
st.write(COMPARE_INTRO)
missing_notice()

choices = lab().comparable_models()
if len(choices) < 2:
    st.info("Comparing needs at least two trained models: the shipped checkpoints or finished runs from Distill.")
    st.stop()

by_key = {choice.key: choice for choice in choices}
runs = [choice.key for choice in choices if choice.is_run]
default = [key for key in ("student", "scratch") if key in by_key] + runs[:1]  # the shipped pair and the newest run
picked = st.multiselect(
    "Models", list(by_key), default=default, format_func=lambda key: by_key[key].label, key="compare_models"
)
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
