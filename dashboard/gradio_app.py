"""KD Lab in Gradio: `python dashboard/gradio_app.py` (port GRADIO_SERVER_PORT, default 7860).

A second skin over the lab service (kd.lab.service.Lab: one per server process, holding every rule
a public server needs) and dashboard/charts.py, and the `app_file` of the repository's Gradio
Space. Tabs: Draw (with the `/predict` API), Distill, Compare runs, Metrics and latency, and Sweeps.

What keeps a shared server responsive and its memory and disk bounded, besides the lab's caps:
- predictions have a concurrency group of their own, which nothing else uses;
- launching, watching and cancelling runs and asking for a measurement return at once and skip
  Gradio's queue (the lab's worker does the work), so no event holds a queue place for long;
- the queue's REST bypass is closed (api_open=False): queued events honour their limits;
- events outside the queue pass the lab's gate (a bound on how many at once, a rate per address) and
  uploads its budget of bytes per window, both before Gradio reads the request (gradio_ui/doors.py);
- uploads over KD_MAX_UPLOAD_MEGABYTES are refused before they reach the disk, Gradio's files
  are deleted after half an hour, at most KD_MAX_SESSIONS sessions' state is kept, and the
  sketchpad's store of uploaded drawings is bounded (dashboard/gradio_ui/sketchpad.py).
"""

import sys
from pathlib import Path

# `python dashboard/gradio_app.py` puts dashboard/ on sys.path, not the repository root that holds `kd`.
if (repository := str(Path(__file__).resolve().parent.parent)) not in sys.path:
    sys.path.insert(0, repository)  # only for this import path: kd.paths.ROOT is the repository for everything else

import gradio as gr  # noqa: E402

# Imported before kd imports torch: on a ZeroGPU Space it must patch torch first. No handler is
# decorated with spaces.GPU: ZeroGPU runs such a handler in a forked process, where the lab's run
# queue and caps would be a copy; the lab's worker trains in this process, on the CPU.
import spaces  # noqa: E402, F401
from starlette.middleware import Middleware  # noqa: E402

from dashboard.gradio_ui import compare, distill, draw, metrics, sweeps  # noqa: E402
from dashboard.gradio_ui.doors import Doors  # noqa: E402
from dashboard.gradio_ui.state import choices, lab, missing_notice  # noqa: E402
from kd.lab.limits import Limits  # noqa: E402
from kd.lab.visitors import distrust_server_proxy_headers  # noqa: E402

PREDICT_CONCURRENCY = 4  # drawings answered at once: a few ms each, so a small pool keeps up with many visitors
# Events waiting at once, every kind together; more are refused with "queue full". Only predictions
# wait here in normal use (everything else skips the queue or returns at once), so a client has to
# flood it, not just repeat an event, to fill it.
QUEUE_SIZE = 256
DELETE_CACHE = (600, 1800)  # every 10 minutes, delete Gradio's uploaded and generated files older than 30


def refresh():
    """Fresh model lists when a page opens (runs may have finished since the server started)."""
    everything = choices()
    return gr.Dropdown(choices=choices(teacher=False)), *(gr.Dropdown(choices=everything) for _ in range(3))


def server_status() -> dict:
    """What the server is doing, for monitoring and the abuse tests: no visitor's data, only counts."""
    return lab().queue_state().counts()


def build() -> gr.Blocks:
    with gr.Blocks(title="KD Lab", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(
            "# KD Lab: knowledge distillation on MNIST\n"
            "A 131k-parameter teacher CNN and a small student distilled from it. Draw a digit, distil a student "
            "of your own, and compare the models class by class and by speed."
        )
        notice = missing_notice()
        if notice:
            gr.Markdown(notice)
        with gr.Tab("Draw"):
            student = draw.build(PREDICT_CONCURRENCY)
        with gr.Tab("Distill"):
            connect_runs = distill.build(demo)
        with gr.Tab("Compare runs") as tab:
            compare.build(tab)
        with gr.Tab("Metrics and latency") as tab:
            selectors = metrics.build(tab)
        with gr.Tab("Sweeps") as tab:
            sweeps.build(tab)
        connect_runs([student, *selectors])
        demo.load(refresh, None, [student, *selectors], api_visibility="private", queue=False)
        gr.Button(visible=False).click(
            server_status, None, gr.JSON(visible=False), api_name="server_status", api_visibility="undocumented",
            queue=False,
        )  # fmt: skip
    return demo.queue(max_size=QUEUE_SIZE, api_open=False)


# Layout Gradio's components leave to the page: the brush toolbar, 15 px in, covered the pad's left edge on a
# phone; the examples' captions are one short line.
LAYOUT_CSS = """
#sketch .toolbar-wrap { left: 0 !important; }
#draw-examples .caption-label { max-width: none; }
"""


def launch_options(limits: Limits) -> dict:
    """Gradio's own limits, from the lab's: uploads refused over the size limit, session state bounded, the
    lab's doors in front of every request (events outside the queue gated, upload bytes budgeted); the CSS."""
    return {
        "max_file_size": f"{limits.max_upload_megabytes}mb",
        "state_session_capacity": limits.max_sessions,
        "app_kwargs": {"middleware": [Middleware(Doors)]},
        "css": LAYOUT_CSS,
    }


if __name__ == "__main__":
    distrust_server_proxy_headers()  # only the lab reads X-Forwarded-For, behind KD_PROXY_HOPS trusted proxies
    lab().warm_up()  # MNIST, the shipped models and the first comparison, before the first visitor asks
    build().launch(**launch_options(lab().limits))
