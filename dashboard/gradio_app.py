"""KD Lab in Gradio: `python dashboard/gradio_app.py` (port GRADIO_SERVER_PORT, default 7860).

A second skin over the same core as the Streamlit lab (kd.lab.catalog, kd.lab.runs, dashboard/charts.py),
and the `app_file` of the repository's Gradio Space. Tabs: Draw (with the `/predict` API),
Distill, and Metrics and latency.

Gradio's queue is set so that a shared server stays responsive: predictions have their own
concurrency group, the launch of a run has a concurrency limit of 1 (the run itself trains
in kd.lab.runs' worker thread, not on the event loop), and the queue as a whole is bounded.
"""

import sys
from pathlib import Path

# `python dashboard/gradio_app.py` puts dashboard/ on sys.path, not the repository root that holds `kd`.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import gradio as gr  # noqa: E402
import spaces  # noqa: E402, F401  (before kd imports torch: on ZeroGPU it sets CUDA up)

from dashboard.gradio_ui import distill, draw, metrics  # noqa: E402
from dashboard.gradio_ui import state as models  # noqa: E402

PREDICT_CONCURRENCY = 4  # drawings answered at once: a few ms each, so a small pool keeps up with many visitors
QUEUE_SIZE = 64  # events waiting at once, every kind together; more are refused with "queue full"


def refresh():
    """Fresh model lists when a page opens (runs may have finished since the server started)."""
    everything = models.choices()
    return gr.Dropdown(choices=models.choices(teacher=False)), *(gr.Dropdown(choices=everything) for _ in range(3))


def build() -> gr.Blocks:
    with gr.Blocks(title="KD Lab") as demo:
        gr.Markdown(
            "# KD Lab: knowledge distillation on MNIST\n"
            "A 131k-parameter teacher CNN and a small student distilled from it. Draw a digit, distil a student "
            "of your own, and compare the models class by class and by speed."
        )
        notice = models.missing_notice()
        if notice:
            gr.Markdown(notice)
        with gr.Tab("Draw"):
            student = draw.build(PREDICT_CONCURRENCY)
        with gr.Tab("Distill"):
            distill.build(student)
        with gr.Tab("Metrics and latency"):
            selectors = metrics.build(demo)
        demo.load(refresh, None, [student, *selectors], api_visibility="private", queue=False)
    return demo.queue(max_size=QUEUE_SIZE)


if __name__ == "__main__":
    build().launch()
