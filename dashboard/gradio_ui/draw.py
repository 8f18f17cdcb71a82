"""The Gradio app's Draw tab and its `/predict` API: a drawn digit to the teacher's and a student's answer.

Drawings are checked and prepared by the lab (`Lab.digit_from_array` for the sketchpad,
`Lab.digit_from_bytes` for an uploaded file: the pixel limit is KD_MAX_DRAWING_PIXELS) and
answered by it (`Lab.answers`: one forward pass per model gives the answer at T = 1 and the
softened one; `Lab.answer` for the API, with the same runtimes); this module draws the answers with
dashboard/charts.py. Bad input is answered with a sentence (gr.Error for the API), never a traceback.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from dashboard import charts
from dashboard.gradio_ui.sketchpad import BoundedSketchpad
from dashboard.gradio_ui.state import choices, lab
from kd import checkpoint
from kd.lab import widgets
from kd.lab.catalog import DEFAULT_STUDENT, ModelEntry
from kd.lab.texts import DRAW_INTRO

ASK = "Draw a digit in the black square to see what the models make of it."
PREVIEW_PIXELS = 168  # the 28x28 image shown six times larger, its pixels visible


def blank_canvas() -> np.ndarray:
    """The sketchpad's opaque black background: white ink on black, as MNIST digits are."""
    side = widgets.CANVAS_PIXELS
    return np.dstack([np.zeros((side, side, 3), np.uint8), np.full((side, side), 255, np.uint8)])


def blank_value() -> dict:
    return {"background": blank_canvas(), "layers": [], "composite": None}


def preview(digit: np.ndarray) -> str:
    """The 28x28 image the models see, inline: no file is written per drawing."""
    buffer = io.BytesIO()
    Image.fromarray((digit * 255).astype(np.uint8)).save(buffer, format="PNG")
    source = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return (
        f'<img src="{source}" alt="the 28×28 digit the models see" width="{PREVIEW_PIXELS}" '
        f'height="{PREVIEW_PIXELS}" style="image-rendering: pixelated">'
    )


def answers(entry: ModelEntry | None, digit: np.ndarray | None, temperature: float) -> dict[float, np.ndarray] | None:
    """The model's answers at T = 1 and at `temperature`, from one forward pass; None without a model or a digit,
    or if its checkpoint cannot be loaded now (replaced or removed since listed)."""
    if entry is None or digit is None:
        return None
    try:
        return lab().answers(entry, digit, (1.0, temperature))
    except (OSError, checkpoint.CheckpointError):
        return None


def headline(name: str, entry: ModelEntry | None, digit: np.ndarray | None, p: np.ndarray | None) -> tuple[str, Any]:
    """'**Teacher says 7** (99.1 % confident) · label' and its probability bars, or a notice; `p`: the answer."""
    if entry is None:
        return f"**{name}**: not available (no checkpoint).", None
    if digit is None:
        return f"**{name}**: waiting for a drawing.", None
    if p is None:
        return f"**{name}**: {entry.label} could not be loaded; reload the page.", None
    top = int(p.argmax())
    colour = charts.TEACHER_COLOUR if name == "Teacher" else charts.STUDENT_COLOUR
    return f"**{name} says {top}** ({p[top]:.1%} confident) · {entry.label}", charts.probability_bars(p, colour)


def view(sketch: dict | None, student_key: str | None, temperature: float) -> tuple:
    """Everything the Draw tab shows for one state of the sketchpad, student and temperature."""
    note = ASK
    try:
        digit = lab().digit_from_array((sketch or {}).get("composite"))
    except ValueError as exc:  # a forged drawing: too large, or not an image
        digit, note = None, f"Cannot read this drawing: {exc}."
    models = {"Teacher": lab().shipped("teacher"), "Student": lab().entry(student_key)}
    answered = {name: answers(entry, digit, temperature) for name, entry in models.items()}
    (teacher_line, teacher_bars), (student_line, student_bars) = (
        headline(name, models[name], digit, None if found is None else found[1.0]) for name, found in answered.items()
    )
    seen, softened = "", None
    if digit is not None:
        seen, note = preview(digit), ""
        distributions = {name: found[float(temperature)] for name, found in answered.items() if found is not None}
        softened = charts.softened_bars(distributions, temperature) if distributions else None
    return seen, note, teacher_line, teacher_bars, student_line, student_bars, softened


def cleared(student_key: str | None, temperature: float) -> tuple:
    """The bin button: a blank black canvas again (Gradio's own clearing leaves a pad that no longer draws)."""
    return blank_value(), *view(None, student_key, temperature)


def examples() -> list[tuple[np.ndarray, str]]:
    """The lab's examples as the gallery shows them: each canvas and its caption, in the lab's order."""
    return [(shown.canvas[..., :3], shown.caption) for shown in lab().examples()]


def pick_example(student_key: str | None, temperature: float, chosen: gr.SelectData) -> tuple:
    """An example clicked: onto the pad, as if drawn there, and answered as a drawing is."""
    shown = lab().examples()
    if not isinstance(chosen.index, int) or not 0 <= chosen.index < len(shown):
        return gr.skip(), *view(None, student_key, temperature)
    canvas = shown[chosen.index].canvas
    sketch = {"background": canvas, "layers": [], "composite": canvas}
    return sketch, *view(sketch, student_key, temperature)


def predict(image: bytes | None) -> dict[str, Any]:
    """The teacher and the default shipped student on one PNG or JPEG image of a digit.

    Returns {"teacher": {"digit": int, "probabilities": [10 floats]}, "student": {...}}.
    """
    if not image:
        raise gr.Error("Send one PNG or JPEG image of a digit.", print_exception=False)
    try:
        digit = lab().digit_from_bytes(image)
    except ValueError as exc:
        raise gr.Error(f"Cannot read a digit in this image: {exc}.", print_exception=False) from None
    if digit is None:
        raise gr.Error("The image is blank: there is no digit in it.", print_exception=False)
    try:
        return lab().answer(digit)
    except (ValueError, OSError, checkpoint.CheckpointError) as exc:
        raise gr.Error(f"Cannot answer: {exc}.", print_exception=False) from None


def build(predict_limit: int) -> gr.Dropdown:
    """The Draw tab and the hidden /predict endpoint; returns the student selector for other tabs to refresh.

    The pad comes first and both answers right under it, so that on a phone they share the first
    screen after drawing; what the models see, the student and the examples sit beside them on a
    desktop and below them on a phone, the introduction under everything that answers.
    """
    side = widgets.CANVAS_PIXELS
    with gr.Row():
        with gr.Column():
            sketch = BoundedSketchpad(
                value=blank_value(),
                canvas_size=(side, side),
                fixed_canvas=True,
                brush=gr.Brush(
                    colors=["#FFFFFF"], default_color="#FFFFFF", color_mode="fixed", default_size=widgets.PEN_RADIUS
                ),
                layers=False,
                transforms=(),
                label="Draw a digit",
                elem_id="sketch",
            )
            with gr.Row(equal_height=True):  # side by side on a phone too: a row of two short lines
                teacher_line = gr.Markdown(elem_id="teacher-says", min_height=0)
                student_line = gr.Markdown(elem_id="student-says", min_height=0)
        with gr.Column():
            seen = gr.HTML(label="What the models see (28×28)", show_label=True, container=True, elem_id="seen")
            note = gr.Markdown(ASK, elem_id="draw-note")
            student = gr.Dropdown(
                choices=choices(teacher=False),
                value=DEFAULT_STUDENT if lab().shipped(DEFAULT_STUDENT) is not None else None,
                label="Student",
                info="The shipped students (and the ensemble of teachers, where there is one), or any finished "
                "run from the Distill tab.",
            )
            gallery = gr.Gallery(
                examples(), label="Or click an example: MNIST validation digits and drawn ones", columns=4,
                height=330, allow_preview=False, buttons=[], interactive=False, object_fit="contain",
                elem_id="draw-examples",
            )  # fmt: skip
    with gr.Row():
        teacher_bars = gr.Plot(show_label=False)
        student_bars = gr.Plot(show_label=False)
    temperature = gr.Slider(
        widgets.DRAW_TEMPERATURE.low, widgets.DRAW_TEMPERATURE.high, widgets.DRAW_TEMPERATURE.default,
        step=widgets.DRAW_TEMPERATURE.step, label="Temperature T",
    )  # fmt: skip
    softened = gr.Plot(label="Softened by temperature: softmax(logits / T), log scale")
    gr.Markdown(DRAW_INTRO)
    outputs = [seen, note, teacher_line, teacher_bars, student_line, student_bars, softened]
    # Predictions share one small pool (concurrency_id "predict") that nothing else uses, so they
    # always have room. Gradio 6's editor drops its first `change` (it takes it for the initial
    # value): `input` answers the first stroke, `change` the later ones; always_last keeps a burst
    # of events to one answer.
    answering = dict(
        concurrency_id="predict", concurrency_limit=predict_limit, show_progress="hidden",
        trigger_mode="always_last", api_visibility="private",
    )  # fmt: skip
    for trigger in (sketch.change, sketch.input, student.change, temperature.release):
        trigger(view, [sketch, student, temperature], outputs, **answering)
    sketch.clear(cleared, [student, temperature], [sketch, *outputs], **answering)
    gallery.select(pick_example, [student, temperature], [sketch, *outputs], **answering)

    # The API: one image in, both answers out. Hidden in the page; gradio_client calls it by name.
    # type="binary": the handler gets the bytes (type="filepath" leaves an empty temporary file per call).
    upload, result = gr.File(visible=False, type="binary"), gr.JSON(visible=False)
    gr.Button(visible=False).click(
        predict, upload, result, api_name="predict", concurrency_id="predict", concurrency_limit=predict_limit
    )
    return student
