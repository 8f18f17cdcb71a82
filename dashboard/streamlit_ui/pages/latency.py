"""Latency: how fast each model answers on this server, at batch sizes from 1 to 1024."""

import pandas as pd
import streamlit as st

from dashboard import charts, tables
from dashboard.streamlit_ui.state import lab, missing_notice, plot
from kd.infer.bench import RUNTIMES
from kd.lab.measure import cut_short

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
if lab().latency.pending():
    st.info("Measuring once the runs before it have finished; these are the latest figures until then.")

    def reload_when_measured() -> None:
        if not lab().latency.pending():
            st.rerun()

    st.fragment(reload_when_measured, run_every=2.0)()

figures = lab().latency_figures(models)
unmeasured = [choice.label for choice in models if choice.key not in figures]
if unmeasured:
    st.info(f"Not measured yet: {', '.join(unmeasured)}. Press “Measure on this server” to time them.")
if not figures:
    st.stop()
labels = {choice.key: choice.label for choice in models}
rows = [{**row, "model": labels[key]} for key, figure in figures.items() for row in figure.rows]

left, right = st.columns(2)
with left:
    st.markdown("**Latency per batch**")
    plot(charts.latency_lines(rows, "p50_ms", "ms per batch (p50, bar up to p95)", p95_bars=True), key="latency_ms")
with right:
    st.markdown("**Throughput**")
    plot(charts.latency_lines(rows, "throughput", "images per second"), key="latency_throughput")

summary = []
for key, figure in figures.items():
    for runtime in RUNTIMES:
        mine = [row for row in figure.rows if row["runtime"] == runtime]
        if not mine:
            continue
        one, biggest = mine[0], mine[-1]
        parameters = by_key[key].info.metrics.parameters
        summary.append(
            {
                "model": labels[key],
                "runtime": RUNTIMES[runtime],
                "parameters": f"{parameters if parameters is not None else one['parameters']:,}",
                "size on disk": tables.human_bytes(by_key[key].size_bytes),
                "p50, 1 image (ms)": round(one["p50_ms"], 3),
                "p95, 1 image (ms)": round(one["p95_ms"], 3),
                f"p50, {biggest['batch_size']} images (ms)": round(biggest["p50_ms"], 2),
                f"images/s at {biggest['batch_size']}": round(biggest["throughput"]),
                "measured": f"{figure.where}, {figure.when}",
            }
        )
st.dataframe(pd.DataFrame(summary), hide_index=True)
teacher, student = figures.get("teacher"), figures.get("student")
if teacher is not None and student is not None and teacher.measured_at == student.measured_at:
    first = BATCH_SIZES[0]
    ratio = teacher.p50_ms("torch", first) / student.p50_ms("torch", first)
    line = f"In PyTorch, the distilled student answers **{ratio:.1f}×** as fast as the teacher for one image"
    onnx_student, onnx_teacher = student.p50_ms("onnx", first), teacher.p50_ms("onnx", first)
    if onnx_student and onnx_teacher:
        line += (
            f"; in ONNX Runtime, **{student.p50_ms('torch', first) / onnx_student:.1f}×** as fast as in PyTorch and "
            f"**{onnx_teacher / onnx_student:.1f}×** as fast as the teacher in ONNX Runtime"
        )
    st.markdown(line + ".")
st.caption(f"Measured with {rows[0]['threads']} CPU threads; each batch size timed after a few untimed warm-up passes.")
short = cut_short(rows, BATCH_SIZES)
if short:
    st.caption(short)
