"""Draw: a digit drawn with a mouse, finger or pen, what the models see, and what teacher and student answer."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from dashboard import charts
from dashboard.streamlit_ui.notices import guarded
from dashboard.streamlit_ui.state import digit_from_canvas, lab, load_runtime, missing_notice, plot
from kd.lab import widgets
from kd.lab.texts import DRAW_INTRO

st.title("Draw a digit")
missing_notice()

teacher_choice = lab().shipped("teacher")
students = lab().models(teacher=False)
labels = {choice.key: choice.label for choice in students}


def remember_student() -> None:
    st.session_state["selected_student"] = st.session_state["draw_student"]


picker, source_column = st.columns([3, 2], vertical_alignment="bottom")
student_choice = None
if students:
    keys = list(labels)
    wanted = st.session_state.get("selected_student")
    student_key = picker.selectbox(
        "Student",
        keys,
        index=keys.index(wanted) if wanted in keys else 0,
        format_func=labels.get,
        key="draw_student",
        on_change=remember_student,
        help="The shipped students (and the ensemble of teachers, where there is one), or any finished run from the "
        "Distill page.",
    )
    student_choice = next(choice for choice in students if choice.key == student_key)

# ONNX Runtime answers where it is faster than PyTorch (exported once per model into the cache folder)
runtimes = {name: load_runtime(choice) for name, choice in (("Teacher", teacher_choice), ("Student", student_choice))}
asked = {name: teacher_choice if name == "Teacher" else student_choice for name, runtime in runtimes.items() if runtime}
if not asked:
    st.warning("There is no model to ask yet: train the shipped checkpoints or launch a run on the Distill page.")

DRAW, EXAMPLE, TEST_DIGIT = "Draw", "Example", "MNIST test digit"
source = source_column.segmented_control(
    "Input", [DRAW, EXAMPLE, TEST_DIGIT], default=DRAW, key="draw_source", label_visibility="collapsed"
)


def example_digit() -> tuple[np.ndarray | None, bool]:
    """The example picked (kd.lab.examples), shown as it sits on the pad, and read as a drawing is."""
    shown = {example.key: example for example in lab().examples()}
    key = st.pills("Example", list(shown), format_func=lambda k: shown[k].caption, key="draw_example")
    if key is None:
        st.info("Pick an example: MNIST validation digits (never trained on) and digits drawn by a program.")
        return None, False
    st.image(shown[key].canvas, caption=shown[key].caption, width=widgets.CANVAS_PIXELS)
    return lab().digit_from_array(shown[key].canvas), True


# Only this part reruns when the drawing or the temperature changes: a faster answer after each stroke.
@st.fragment
@guarded
def drawing_area() -> None:
    st.space("medium")  # room for the canvas toolbar, which floats above the canvas
    canvas_column, seen_column = st.columns([3, 2])
    with canvas_column:
        cropped = source != TEST_DIGIT  # a drawing or an example is prepared like a drawing, a test digit is not
        if source == TEST_DIGIT:
            index = st.number_input("Test digit number", 0, 9_999, 0, key="draw_index")
            image, label = lab().test_digit(int(index))
            st.image(np.kron(image, np.ones((10, 10), np.uint8)), caption=f"test digit {index}, labelled {label}")
            digit = image.astype(np.float32) / 255.0
        elif source == EXAMPLE:
            digit, cropped = example_digit()
        else:
            result = st_canvas(
                stroke_width=widgets.PEN_WIDTH,
                stroke_color="#FFFFFF",
                background_color="#000000",
                height=widgets.CANVAS_PIXELS,
                width=widgets.CANVAS_PIXELS,
                drawing_mode="freedraw",
                return_image_data=True,
                key="draw_canvas",
            )
            st.caption("Draw with a mouse, a finger or a pen. The toolbar above the pad has undo, redo and clear.")
            # the PNG's size is checked before it is decoded (result.image_data would decode any size)
            digit = digit_from_canvas(result.image_bytes)
        verdicts = st.container()  # right under the pad: on a phone the answers share the screen with the drawing
    with seen_column:
        st.markdown("**What the models see** (28×28)")
        if digit is None:
            st.info("Draw a digit in the black square to see what the models make of it.")
        else:
            st.image(np.kron(digit, np.ones((6, 6), np.float32)), clamp=True)
            if cropped:  # an MNIST test digit goes to the models as it is
                st.caption(
                    "Cropped to the ink, strokes much thicker than a pen's thinned, the longer side scaled to 20 px "
                    "and centred by its centre of mass: the way MNIST's digits were prepared."
                )

    if digit is None:
        return

    answers_area = st.container()  # the bars, filled below the slider's line: one forward pass gives both T
    st.subheader("Softened by temperature")
    shown = widgets.DRAW_TEMPERATURE
    temperature = st.slider(
        "Temperature T", shown.low, shown.high, shown.default, shown.step, key="draw_temperature",
        help="softmax(logits / T). T = 1 is the models' ordinary answer; distillation trains the student to match "
        "the teacher at a higher T, where the small probabilities of the other digits become visible.",
    )  # fmt: skip
    answers = {name: lab().answers(choice, digit, (1.0, temperature)) for name, choice in asked.items()}
    colours = {"Teacher": charts.TEACHER_COLOUR, "Student": charts.STUDENT_COLOUR}
    # side by side on a phone too (columns would stack there), so both fit under the pad
    row = verdicts.container(horizontal=True)
    for name, by_temperature in answers.items():
        p = by_temperature[1.0]
        top = int(p.argmax())
        cell = row.container()
        cell.metric(f"{name} says", str(top), help=labels.get(student_choice.key) if name == "Student" else None)
        cell.caption(f"{p[top]:.1%} confident · run by {runtimes[name]}")
    with answers_area:
        for column, (name, by_temperature) in zip(st.columns(2), answers.items(), strict=False):
            with column:
                plot(charts.probability_bars(by_temperature[1.0], colours[name]), key=f"draw_bars_{name}")
    softened = {name: by_temperature[temperature] for name, by_temperature in answers.items()}
    plot(charts.softened_bars(softened, temperature), key="draw_softened")
    name, p = next(iter(softened.items()))
    top, second, third = (int(digit) for digit in np.argsort(p)[::-1][:3])
    st.caption(
        f"At T = 1 the {name.lower()} is nearly certain it is a {top}. As T rises its next choices surface: this {top} "
        f"looks a little like a {second}, then a {third}, to it. The student learns from this shape, not just from "
        "the top digit."
    )


drawing_area()  # below the student and the input: the answers follow the drawing, not the other way round
st.caption(DRAW_INTRO)  # below the pad: on a phone, the pad and its answers come first
