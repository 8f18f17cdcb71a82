"""Latency: how fast each model answers on this server, at batch sizes from 1 to 1024."""

import pandas as pd
import streamlit as st

from dashboard import charts, tables
from dashboard.streamlit_ui.state import (
    latency,
    limits,
    measure_again,
    measurement_pending,
    missing_notice,
    model_choices,
    training_busy,
)
from kd.infer.bench import RUNTIMES

BATCH_SIZES = (1, 4, 16, 64, 256, 1024)
RUNTIMES_SHOWN = tuple(RUNTIMES)  # PyTorch and ONNX Runtime side by side

st.title("Latency")
st.write(
    "A smaller model is only worth having if it is faster. Here each model is timed on this server's CPU at "
    "batch sizes from 1 to 1024, with BatchNorm folded into the convolutions as a deployed model would run: "
    "median (p50) and 95th-percentile (p95) time per batch, and images per second. Each runs twice: in PyTorch "
    "(solid lines) and exported to ONNX, in ONNX Runtime (dashed), which the Draw page uses where it is faster."
)
missing_notice()

choices = model_choices()
if not choices:
    st.info("There is no model to time yet.")
    st.stop()

by_path = {choice.path: choice for choice in choices}
default = [choice.path for choice in choices if choice.key in ("teacher", "student")] or [choices[0].path]
picked = st.multiselect(
    "Models", list(by_path), default=default, format_func=lambda p: by_path[p].label, key="latency_models"
)
if not picked:
    st.info("Pick at least one model.")
    st.stop()

if training_busy():
    st.warning("A distillation run is training on this server right now: it shares the CPUs, so timings are slower.")
models = [by_path[p] for p in picked]
interval = limits().measure_interval_seconds
if st.button("Measure again", help=f"Queued behind any training run; at most once in {interval} s for the server."):
    refused = measure_again(models, BATCH_SIZES, runtimes=RUNTIMES_SHOWN)
    if refused:
        st.info(refused)
if measurement_pending(models, BATCH_SIZES, runtimes=RUNTIMES_SHOWN):
    st.info("Measuring again once the runs before it have finished; these are the previous figures until then.")

    def reload_when_measured() -> None:
        if not measurement_pending(models, BATCH_SIZES, runtimes=RUNTIMES_SHOWN):
            st.rerun()

    st.fragment(reload_when_measured, run_every=2.0)()
with st.spinner("Timing the models (a few seconds, once; the result is cached)…"):
    rows = latency(models, BATCH_SIZES, runtimes=RUNTIMES_SHOWN)

left, right = st.columns(2)
with left:
    st.markdown("**Latency per batch**")
    st.plotly_chart(
        charts.latency_lines(rows, "p50_ms", "ms per batch (p50, bar up to p95)", p95_bars=True), key="latency_ms"
    )
with right:
    st.markdown("**Throughput**")
    st.plotly_chart(charts.latency_lines(rows, "throughput", "images per second"), key="latency_throughput")

summary = []
for path, runtime in ((path, runtime) for path in picked for runtime in RUNTIMES):
    choice = by_path[path]
    mine = [row for row in rows if row["model"] == choice.label and row["runtime"] == runtime]
    one, biggest = mine[0], mine[-1]
    summary.append(
        {
            "model": choice.label,
            "runtime": RUNTIMES[runtime],
            "parameters": f"{choice.metadata.get('metrics', {}).get('parameters', one['parameters']):,}",
            "size on disk": tables.human_bytes(choice.size_bytes),
            "p50, 1 image (ms)": round(one["p50_ms"], 3),
            "p95, 1 image (ms)": round(one["p95_ms"], 3),
            f"p50, {biggest['batch_size']} images (ms)": round(biggest["p50_ms"], 2),
            f"images/s at {biggest['batch_size']}": round(biggest["throughput"]),
        }
    )
st.dataframe(pd.DataFrame(summary), hide_index=True)
keys = {by_path[path].key: by_path[path].label for path in picked}
if "teacher" in keys and "student" in keys:
    p50 = {(row["model"], row["runtime"], row["batch_size"]): row["p50_ms"] for row in rows}
    first, last = BATCH_SIZES[0], BATCH_SIZES[-1]
    ratios = [p50[(keys["teacher"], "torch", size)] / p50[(keys["student"], "torch", size)] for size in (first, last)]
    onnx_student = p50[(keys["student"], "onnx", first)]
    st.markdown(
        f"In PyTorch, the distilled student answers **{ratios[0]:.1f}×** as fast as the teacher for one image "
        f"and **{ratios[1]:.1f}×** for a batch of {last}. In ONNX Runtime, one image: the student answers "
        f"**{p50[(keys['student'], 'torch', first)] / onnx_student:.1f}×** as fast as in PyTorch and "
        f"**{p50[(keys['teacher'], 'onnx', first)] / onnx_student:.1f}×** as fast as the teacher in ONNX Runtime."
    )
st.caption(f"Measured with {rows[0]['threads']} CPU threads; each batch size timed after a few untimed warm-up passes.")
