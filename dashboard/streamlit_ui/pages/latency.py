"""Latency: how fast each model answers on this server, at batch sizes from 1 to 1024."""

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.streamlit_ui.state import lab, missing_notice, plot
from kd.infer.bench import RUNTIMES
from kd.lab.latency_views import BATCH_SIZES

RUNTIMES_SHOWN = tuple(RUNTIMES)  # PyTorch and ONNX Runtime side by side

st.title("Latency")
st.write(
    "A smaller model is only worth having if it is faster. Here each model is timed on this server's CPU at "
    "batch sizes from 1 to 1024, with BatchNorm folded into the convolutions as a deployed model would run: "
    "median (p50) and 95th-percentile (p95) time per batch, and images per second. Each runs twice: in PyTorch "
    "(solid lines) and exported to ONNX, in ONNX Runtime (dashed), which the Draw page uses where it is faster."
)
missing_notice()

choices = lab().models()
if not choices:
    st.info("There is no model to time yet.")
    st.stop()

by_key = {choice.key: choice for choice in choices}
default = [choice.key for choice in choices if choice.key in ("teacher", "student")] or [choices[0].key]
most = lab().limits.max_measured_models  # one measurement times at most this many
picked = st.multiselect(
    f"Models (up to {most})", list(by_key), default=default[:most], format_func=lambda k: by_key[k].label,
    key="latency_models", max_selections=most,
)  # fmt: skip
if not picked:
    st.info("Pick at least one model.")
    st.stop()

if lab().busy():
    st.warning("A distillation run is training on this server right now: it shares the CPUs, so timings are slower.")
models = [by_key[key] for key in picked]
interval = lab().limits.measure_interval_seconds
if st.button("Measure on this server", help=f"Queued behind any training run; at most once in {interval} s."):
    refused = lab().measure(models, BATCH_SIZES, RUNTIMES_SHOWN)
    if refused:
        st.info(refused)
board = lab().latency_view(models)
if board.measuring:
    st.info("Measuring once the runs before it have finished; these are the latest figures until then.")

    def reload_when_measured() -> None:
        if not lab().queue_state().measuring:
            st.rerun()

    st.fragment(reload_when_measured, run_every=2.0)()

if board.unmeasured:
    st.info(f"Not measured yet: {', '.join(board.unmeasured)}. Press “Measure on this server” to time them.")
if not board.figures:
    st.stop()
rows = board.rows

left, right = st.columns(2)
with left:
    st.markdown("**Latency per batch**")
    plot(charts.latency_lines(rows, "p50_ms", "ms per batch (p50, bar up to p95)", p95_bars=True), key="latency_ms")
with right:
    st.markdown("**Throughput**")
    plot(charts.latency_lines(rows, "throughput", "images per second"), key="latency_throughput")

noisy = board.noisy()
if noisy is not None:
    st.warning(noisy)
st.table(pd.DataFrame(board.summary()), hide_index=True)  # wraps to the page: every column in sight at 1366 px
speedup = board.speedup()
if speedup is not None:
    st.markdown(speedup)
st.caption(
    " ".join(line for line in board.notes() if line != noisy)
    + f" Timed with {board.threads} CPU threads; each batch size after a few untimed warm-up passes."
)
