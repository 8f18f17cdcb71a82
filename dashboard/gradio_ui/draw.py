"""The Gradio app's Draw tab and its `/predict` API: a drawn digit to the teacher's and a student's answer.

Both go through the same steps as the Streamlit lab: kd.preprocess.canvas_to_mnist, then
kd.predict.predict_proba, drawn with dashboard/charts.py. Bad input (a blank image, a file
that is not an image, an image too small to hold a digit) is answered with gr.Error and a
sentence, never a traceback.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from dashboard import charts
from dashboard.gradio_ui import state as models
from kd.lab.catalog import ModelEntry
from kd.preprocess import canvas_to_mnist

CANVAS = 280  # px, as in the Streamlit lab
MAX_SIDE = 4096  # px: larger uploads are refused before they are decoded into memory
PREVIEW_SCALE = 6  # the 28x28 image is shown 168 px wide, with visible pixels
ASK = "Draw a digit in the black square to see what the models make of it."


def blank_canvas() -> np.ndarray:
    """The sketchpad's opaque black background: white ink on black, as MNIST digits are."""
    return np.dstack([np.zeros((CANVAS, CANVAS, 3), np.uint8), np.full((CANVAS, CANVAS), 255, np.uint8)])


def blank_value() -> dict:
    return {"background": blank_canvas(), "layers": [], "composite": None}


def answer(entry: ModelEntry, digit: np.ndarray) -> dict[str, Any]:
    p = models.probabilities(entry, digit)
    return {"digit": int(p.argmax()), "probabilities": [float(x) for x in p]}


def headline(name: str, entry: ModelEntry | None, digit: np.ndarray | None) -> tuple[str, Any]:
    """'**Teacher says 7** (99.1 % confident)' and its probability bars, or a notice."""
    if entry is None:
        return f"**{name}**: not available (no checkpoint).", None
    if digit is None:
        return f"**{name}**: waiting for a drawing.", None
    p = models.probabilities(entry, digit)
    top = int(p.argmax())
    colour = charts.TEACHER_COLOUR if name == "Teacher" else charts.STUDENT_COLOUR
    return f"**{name} says {top}** ({p[top]:.1%} confident) · {entry.label}", charts.probability_bars(p, colour)


def view(sketch: dict | None, student_path: str | None, temperature: float):
    """Everything the Draw tab shows for one state of the sketchpad, student and temperature."""
    composite = (sketch or {}).get("composite")
    try:
        digit = canvas_to_mnist(composite) if composite is not None else None
    except ValueError:
        digit = None
    teacher, student = models.shipped("teacher"), models.by_path(student_path)
    teacher_line, teacher_bars = headline("Teacher", teacher, digit)
    student_line, student_bars = headline("Student", student, digit)
    seen, softened, note = None, None, ASK
    if digit is not None:
        seen = (np.kron(digit, np.ones((PREVIEW_SCALE, PREVIEW_SCALE), np.float32)) * 255).astype(np.uint8)
        asked = {name: entry for name, entry in (("Teacher", teacher), ("Student", student)) if entry is not None}
        distributions = {name: models.probabilities(entry, digit, temperature) for name, entry in asked.items()}
        softened = charts.softened_bars(distributions, temperature) if distributions else None
        note = ""
    return seen, note, teacher_line, teacher_bars, student_line, student_bars, softened


def read_image(path: str | None) -> np.ndarray:
    """An uploaded file as an RGBA array, or gr.Error saying why it cannot be one."""
    if path is None:
        raise gr.Error("Send one image file of a digit.", print_exception=False)
    try:
        with Image.open(path) as image:
            if max(image.size) > MAX_SIDE:
                size = f"{image.size[0]}x{image.size[1]}"
                raise gr.Error(f"The image is {size} px; at most {MAX_SIDE} px a side.", print_exception=False)
            return np.asarray(image.convert("RGBA"))
    except (OSError, Image.DecompressionBombError):
        raise gr.Error(
            "That file is not an image that can be read (PNG, JPEG, WebP...).", print_exception=False
        ) from None


def predict(path: str | None) -> dict[str, Any]:
    """The teacher and the default shipped student on one image of a digit.

    Returns {"teacher": {"digit": int, "probabilities": [10 floats]}, "student": {...}}.
    """
    image = read_image(path)
    try:
        digit = canvas_to_mnist(image)
    except ValueError as exc:
        raise gr.Error(f"Cannot read a digit in this image: {exc}.", print_exception=False) from None
    if digit is None:
        raise gr.Error("The image is blank: there is no digit in it.", print_exception=False)
    teacher, student = models.shipped("teacher"), models.default_student()
    if teacher is None or student is None:
        raise gr.Error("The shipped teacher or student is missing on this server.", print_exception=False)
    return {"teacher": answer(teacher, digit), "student": answer(student, digit)}


def build(predict_limit: int) -> gr.Dropdown:
    """The Draw tab and the hidden /predict endpoint; returns the student selector for other tabs to refresh."""
    gr.Markdown(
        "Draw a digit. It is cropped, scaled and centred the way MNIST digits were, and the 28×28 result goes "
        "to the teacher and to a student. The temperature slider shows both models' softened answers: the "
        "“dark knowledge” about which other digits they find similar, which distillation passes on."
    )
    default = models.default_student()
    with gr.Row():
        sketch = gr.Sketchpad(
            value=blank_value(),
            canvas_size=(CANVAS, CANVAS),
            fixed_canvas=True,
            brush=gr.Brush(colors=["#FFFFFF"], default_color="#FFFFFF", color_mode="fixed", default_size=9),
            layers=False,
            transforms=(),
            label="Draw a digit",
            elem_id="sketch",
        )
        with gr.Column():
            seen = gr.Image(label="What the models see (28×28)", interactive=False, height=200)
            note = gr.Markdown(ASK, elem_id="draw-note")
            student = gr.Dropdown(
                choices=models.choices(teacher=False),
                value=default.path if default is not None else None,
                label="Student",
                info="The shipped students, or any finished run from the Distill tab.",
            )
    with gr.Row():
        with gr.Column():
            teacher_line = gr.Markdown(elem_id="teacher-says")
            teacher_bars = gr.Plot(show_label=False)
        with gr.Column():
            student_line = gr.Markdown(elem_id="student-says")
            student_bars = gr.Plot(show_label=False)
    temperature = gr.Slider(1.0, 20.0, 4.0, step=0.5, label="Temperature T")
    softened = gr.Plot(label="Softened by temperature: softmax(logits / T), log scale")
    outputs = [seen, note, teacher_line, teacher_bars, student_line, student_bars, softened]
    inputs = [sketch, student, temperature]
    # Gradio 6's editor drops its first `change` (it takes it for the initial value): `input` answers the
    # first stroke, `change` the later ones; always_last keeps a burst of events to one answer.
    for trigger in (sketch.change, sketch.input, sketch.clear, student.change, temperature.release):
        trigger(
            view, inputs, outputs, concurrency_id="predict", concurrency_limit=predict_limit,
            show_progress="hidden", trigger_mode="always_last", api_visibility="private",
        )  # fmt: skip

    # The API: one image in, both answers out. Hidden in the page; gradio_client calls it by name.
    upload, result = gr.File(visible=False), gr.JSON(visible=False)
    gr.Button(visible=False).click(
        predict, upload, result, api_name="predict", concurrency_id="predict", concurrency_limit=predict_limit
    )
    return student
